from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse, StreamingHttpResponse

# Rows read from the database at a time, so an export of any size keeps memory flat.
EXPORT_CHUNK = 5000


def attachment(body: str, *, content_type: str, filename: str) -> HttpResponse:
    """A file the browser saves; never cached, as what is exported names people."""
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def json_attachment(data: Any, *, filename: str) -> HttpResponse:
    return attachment(
        json.dumps(data, indent=2, ensure_ascii=False),
        content_type="application/json; charset=utf-8",
        filename=filename,
    )


def streamed_attachment(
    chunks: Iterable[str], *, content_type: str, filename: str
) -> StreamingHttpResponse:
    """A file of any size the browser saves, written as it is read: memory stays flat."""
    response = StreamingHttpResponse(_batched(chunks), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def _batched(chunks: Iterable[str], size: int = 64 * 1024) -> Iterator[bytes]:
    """Lines joined into blocks of about `size` bytes: one write per line is slow."""
    buffer: list[str] = []
    length = 0
    for chunk in chunks:
        buffer.append(chunk)
        length += len(chunk)
        if length >= size:
            yield "".join(buffer).encode()
            buffer, length = [], 0
    if buffer:
        yield "".join(buffer).encode()


def json_lines(records: Iterable[dict[str, Any]]) -> Iterator[str]:
    for record in records:
        yield json.dumps(record, ensure_ascii=False, default=str) + "\n"


def export_rows(rows: QuerySet[Any], columns: Sequence[tuple[str, str]]) -> Iterator[list[Any]]:
    """The header, then a list for each of `rows`; `columns` pairs each column's name
    with the field it is read from. Read in chunks; times to the second in ISO 8601,
    a missing value blank."""
    yield [name for name, _ in columns]
    fields = [field for _, field in columns]
    for values in rows.values_list(*fields).iterator(chunk_size=EXPORT_CHUNK):
        yield [_cell(value) for value in values]


def _cell(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return "" if value is None else value
