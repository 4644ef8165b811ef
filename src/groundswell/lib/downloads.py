from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from django.http import HttpResponse, StreamingHttpResponse


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
