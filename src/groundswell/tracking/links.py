"""Where a tracked link goes, looked up in the database and kept briefly per process.

A link's destination never changes once the mailing is sent, so a minute's cache
is safe; a link not found is remembered only for a few seconds, and the cache is
emptied when it grows past MAX_ENTRIES (guessed numbers cannot fill memory).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from groundswell.lib.numbers import MAX_STORED_BIGINT, bounded_int
from groundswell.mailings.models import MailingStatus, TrackedLink
from groundswell.orgs.access import Permission, can

FOUND_SECONDS = 60.0
MISSING_SECONDS = 5.0
MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class DraftLink:
    """A link of a mailing not sent yet, as its test copies carry it."""

    url: str
    organisation_id: int


# Per link: until when the entry holds, the destination served to everyone (None for
# a draft's link or a link not found), and the draft's link if it is one.
Entry = tuple[float, str | None, DraftLink | None]
_cache: dict[tuple[int, int], Entry] = {}


def _entry(mailing_id: int, number: int) -> Entry | None:
    if bounded_int(mailing_id, MAX_STORED_BIGINT) is None or bounded_int(number) is None:
        return None  # /go/ takes any digits; the database would refuse these
    key = (mailing_id, number)
    now = time.monotonic()
    cached = _cache.get(key)
    if cached is not None and cached[0] > now:
        return cached
    row = (
        TrackedLink.objects.filter(mailing_id=mailing_id, number=number)
        .values_list("url", "mailing__status", "mailing__organisation_id")
        .first()
    )
    url, draft = None, None
    if row is not None and row[1] == MailingStatus.DRAFT:
        # A draft's links change with every edit and nobody has been sent them: not
        # served, but to staff following a test copy's link (may_follow).
        draft = DraftLink(url=row[0], organisation_id=row[2])
    elif row is not None:
        url = row[0]
    if len(_cache) >= MAX_ENTRIES:
        _cache.clear()
    entry = (now + (FOUND_SECONDS if url is not None else MISSING_SECONDS), url, draft)
    _cache[key] = entry
    return entry


def link_destination(mailing_id: int, number: int) -> str | None:
    """The stored destination of link `number` in the mailing, or None (also for a
    draft's link)."""
    entry = _entry(mailing_id, number)
    return None if entry is None else entry[1]


def draft_link(mailing_id: int, number: int) -> DraftLink | None:
    """Link `number` of a draft mailing, or None; kept as briefly as a link not found."""
    entry = _entry(mailing_id, number)
    return None if entry is None else entry[2]


def cached_link(mailing_id: int, number: int) -> Entry | None:
    """The cache's entry for this link while it is still fresh, as the very object kept
    (tracking/fastpath.py tests it by identity), or None."""
    cached = _cache.get((mailing_id, number))
    if cached is None or cached[0] <= time.monotonic():
        return None
    return cached


def may_follow(user: Any, link: DraftLink) -> bool:
    """Whether a signed-in staff user may see the draft, and so follow its links
    (clicking through a test copy)."""
    return bool(getattr(user, "is_authenticated", False)) and can(
        user, link.organisation_id, Permission.FIGURES
    )


def clear_link_cache() -> None:
    _cache.clear()
