"""CSV that spreadsheet programs open as data, never as formulas (OWASP CSV injection)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def is_formula(text: str) -> bool:
    """Would a spreadsheet read this cell as a formula? Some skip leading spaces before
    looking, so we do too."""
    return text.lstrip(" ").startswith(_FORMULA_STARTS)


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if is_formula(text) else text


def csv_text(rows: Iterable[Iterable[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return out.getvalue()


# Excel reads a UTF-8 file without it as the local code page (accents become mojibake).
BOM = "\ufeff"


class _Line:
    """Where csv.writer writes one row: kept, to be handed on as a string."""

    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> None:
        self.text = text


def csv_lines(rows: Iterable[Iterable[object]], *, bom: bool = False) -> Iterator[str]:
    """The rows as CSV, a line at a time (for a streamed download of any size), every
    cell made safe for spreadsheets as csv_text does."""
    if bom:
        yield BOM
    line = _Line()
    writer = csv.writer(line)
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
        yield line.text
