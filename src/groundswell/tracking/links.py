"""Where a tracked link goes, looked up in the database and kept briefly per process.

A link's destination never changes once the mailing is sent, so a minute's cache
is safe; a link not found is remembered only for a few seconds, and the cache is
emptied when it grows past MAX_ENTRIES (guessed numbers cannot fill memory).
"""

from __future__ import annotations

import time

from groundswell.mailings.models import TrackedLink

FOUND_SECONDS = 60.0
MISSING_SECONDS = 5.0
MAX_ENTRIES = 10_000

_cache: dict[tuple[int, int], tuple[float, str | None]] = {}


def link_destination(mailing_id: int, number: int) -> str | None:
    """The stored destination of link `number` in the mailing, or None."""
    key = (mailing_id, number)
    now = time.monotonic()
    cached = _cache.get(key)
    if cached is not None and cached[0] > now:
        return cached[1]
    url = (
        TrackedLink.objects.filter(mailing_id=mailing_id, number=number)
        .values_list("url", flat=True)
        .first()
    )
    if len(_cache) >= MAX_ENTRIES:
        _cache.clear()
    _cache[key] = (now + (FOUND_SECONDS if url is not None else MISSING_SECONDS), url)
    return url


def clear_link_cache() -> None:
    _cache.clear()
