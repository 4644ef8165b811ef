"""Numbers taken from a request (a tracked link's `t`, an id in a form or a query).

Only ASCII digits count (str.isdigit() also accepts "²", which int() refuses), and
only up to what an IntegerField holds on every database we support: anything else
is no number at all, never an error the database raises later, in a batch it shares
with other people's writes.
"""

from __future__ import annotations

import re

# The largest value of a (Positive)IntegerField on SQLite and PostgreSQL alike.
MAX_STORED_INT = 2_147_483_647
# ... and of a BigIntegerField (our primary keys).
MAX_STORED_BIGINT = 9_223_372_036_854_775_807

_DIGITS = re.compile(r"[0-9]{1,19}")


def bounded_int(value: object, maximum: int = MAX_STORED_INT) -> int | None:
    """The whole number `value` spells, from 0 to `maximum`, or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _DIGITS.fullmatch(value):
        number = int(value)
    else:
        return None
    return number if 0 <= number <= maximum else None
