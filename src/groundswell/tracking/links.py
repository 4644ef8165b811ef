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

_cache: dict[tuple[int, int], tuple[float, str | None]] = {}


def link_destination(mailing_id: int, number: int) -> str | None:
    """The stored destination of link `number` in the mailing, or None."""
    if bounded_int(mailing_id, MAX_STORED_BIGINT) is None or bounded_int(number) is None:
        return None  # /go/ takes any digits; the database would refuse these
    key = (mailing_id, number)
    now = time.monotonic()
    cached = _cache.get(key)
    if cached is not None and cached[0] > now:
        return cached[1]
    url = (
        TrackedLink.objects.filter(mailing_id=mailing_id, number=number)
        # A draft's links change with every edit and nobody has been sent them: not
        # served (staff following a test copy's link: draft_link and may_follow).
        .exclude(mailing__status=MailingStatus.DRAFT)
        .values_list("url", flat=True)
        .first()
    )
    if len(_cache) >= MAX_ENTRIES:
        _cache.clear()
    _cache[key] = (now + (FOUND_SECONDS if url is not None else MISSING_SECONDS), url)
    return url


def cached_link(mailing_id: int, number: int) -> tuple[float, str | None] | None:
    """The cache's entry for this link while it is still fresh, as the very object kept
    (tracking/fastpath.py tests it by identity), or None."""
    cached = _cache.get((mailing_id, number))
    if cached is None or cached[0] <= time.monotonic():
        return None
    return cached


@dataclass(frozen=True)
class DraftLink:
    """A link of a mailing not sent yet, as its test copies carry it."""

    url: str
    organisation_id: int


def draft_link(mailing_id: int, number: int) -> DraftLink | None:
    """Link `number` of a draft mailing, never cached; None when there is none."""
    if bounded_int(mailing_id, MAX_STORED_BIGINT) is None or bounded_int(number) is None:
        return None
    row = (
        TrackedLink.objects.filter(
            mailing_id=mailing_id, number=number, mailing__status=MailingStatus.DRAFT
        )
        .values_list("url", "mailing__organisation_id")
        .first()
    )
    return None if row is None else DraftLink(url=row[0], organisation_id=row[1])


def may_follow(user: Any, link: DraftLink) -> bool:
    """Whether a signed-in staff user may see the draft, and so follow its links
    (clicking through a test copy)."""
    return bool(getattr(user, "is_authenticated", False)) and can(
        user, link.organisation_id, Permission.FIGURES
    )


def clear_link_cache() -> None:
    _cache.clear()
