"""CSV that spreadsheet programs open as data, never as formulas (OWASP CSV injection)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

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
