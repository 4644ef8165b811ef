"""The public signature count: cheap to read, never a lock every signer queues on.

Signing only inserts a Signature. The count lives in one PetitionCount row per
petition, which readers refresh when it is older than COUNT_REFRESH_SECONDS: one
conditional UPDATE sets it to a fresh COUNT(*) of valid signatures (an index scan
on (petition, status)), only if it is still stale, and never lower than before.
Two readers racing both see the row as stale; the second one's UPDATE finds it
fresh and does nothing. Each process also keeps the value for
COUNT_CACHE_SECONDS, so a page and the JSON served by the same process agree, and
the count is at most refresh + cache seconds behind the signatures.

The refresh is a write made while answering a read, so it never waits for one: on
SQLite it runs only when the writers' turn is free and SQLite's lock comes within a
tenth of a second (lib/turns.py turn_if_free); otherwise the page shows the count
stored last, and a later reader refreshes it. Under a steady stream of writes the
count can so fall a few more seconds behind; a page never fails or stalls for it.

A count can only go down through refresh_petition_count(..., allow_decrease=True),
which whoever invalidates signatures calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import Count, F, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from groundswell.lib.refresh import ProcessCache
from groundswell.lib.turns import is_busy, turn_if_free
from groundswell.petitions.countries import COUNTRY_NAMES
from groundswell.petitions.models import Petition, PetitionCount, Signature, SignatureStatus

RECENT_SIGNERS = 6
RECENT_COMMENT_CHARACTERS = 200


def refresh_seconds() -> float:
    return float(settings.COUNT_REFRESH_SECONDS)


def cache_seconds() -> float:
    return float(settings.COUNT_CACHE_SECONDS)


@dataclass(frozen=True)
class CountSnapshot:
    count: int
    goal: int
    updated_at: datetime

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.count / self.goal)) if self.goal else 100


@dataclass(frozen=True)
class RecentSigner:
    name: str
    place: str
    # Their comment, unless staff hid it; shortened for the page.
    comment: str = ""


_counts: ProcessCache[int, CountSnapshot] = ProcessCache(cache_seconds)
_recent: ProcessCache[int, list[RecentSigner]] = ProcessCache(cache_seconds)


def clear_process_cache() -> None:
    _counts.clear()
    _recent.clear()


def next_goal(count: int) -> int:
    """The smallest of 1, 2.5 or 5 times a power of ten above the count: 1,000 -> 2,500."""
    scale = 10
    while True:
        for step in (scale, scale * 5 // 2, scale * 5):
            if step > count:
                return step
        scale *= 10


def goal_for(petition: Petition, count: int) -> int:
    if petition.auto_raise_goal and count >= petition.goal:
        return next_goal(count)
    return petition.goal


def _fresh_count(petition_id: int) -> Subquery:
    return Subquery(
        Signature.objects.filter(petition_id=petition_id, status=SignatureStatus.VALID)
        .order_by()
        .values("petition_id")
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )


def refresh_petition_count(petition: Petition, *, allow_decrease: bool = False) -> None:
    """Recount now if the stored count is stale (always, when allow_decrease)."""
    now = timezone.now()
    rows = PetitionCount.objects.filter(pk=petition.pk)
    fresh = Coalesce(_fresh_count(petition.pk), 0)
    if allow_decrease:
        updated = rows.update(count=fresh, updated_at=now)
    else:
        stale_before = now - timedelta(seconds=refresh_seconds())
        updated = rows.filter(updated_at__lt=stale_before).update(
            count=Greatest(F("count"), fresh), updated_at=now
        )
    if updated or rows.exists():
        return
    counted = Signature.objects.filter(petition=petition, status=SignatureStatus.VALID).count()
    try:
        with transaction.atomic():
            PetitionCount.objects.create(petition=petition, count=counted, updated_at=now)
    except IntegrityError:
        pass  # Another reader created it a moment ago; its count is as good as ours.


def _stored(petition: Petition) -> tuple[int, datetime] | None:
    return PetitionCount.objects.filter(pk=petition.pk).values_list("count", "updated_at").first()


def _read(petition: Petition) -> CountSnapshot:
    row = _stored(petition)
    is_stale = row is None or timezone.now() - row[1] >= timedelta(seconds=refresh_seconds())
    goal = goal_for(petition, row[0] if row else 0)
    if is_stale:
        # A page answers with the count it has rather than wait for, or fail on,
        # another writer: the next reader after the cache expires tries again.
        with turn_if_free() as free:
            if free:
                try:
                    refresh_petition_count(petition)
                    row = _stored(petition)
                    goal = goal_for(petition, row[0] if row else 0)
                    if goal != petition.goal:
                        # Conditional, so two processes raising at once write it once.
                        Petition.objects.filter(pk=petition.pk, goal=petition.goal).update(
                            goal=goal
                        )
                except OperationalError as error:
                    if not is_busy(error):
                        raise
    if row is None:
        # No count stored yet and no turn to store one: count now, store it later.
        counted = Signature.objects.filter(petition=petition, status=SignatureStatus.VALID)
        row = (counted.count(), timezone.now())
        goal = goal_for(petition, row[0])
    count, updated_at = row
    return CountSnapshot(count=count, goal=goal, updated_at=updated_at)


def petition_count(petition: Petition) -> CountSnapshot:
    """The count the page and the JSON both show."""
    return _counts.get(petition.pk, lambda: _read(petition))


def cached_petition_count(petition: Petition) -> CountSnapshot | None:
    """What petition_count would return now, if it can say without the database."""
    return _counts.peek(petition.pk)


def display_name(first_name: str, last_name: str) -> str:
    initial = last_name.strip()[:1].upper()
    return f"{first_name.strip()} {initial}." if initial else first_name.strip()


def recent_signers(petition: Petition) -> list[RecentSigner]:
    """The latest signers who allowed their name to be shown: first name, initial, country."""
    return _recent.get(petition.pk, lambda: _read_recent_signers(petition))


def _read_recent_signers(petition: Petition) -> list[RecentSigner]:
    rows = (
        Signature.objects.filter(petition=petition, status=SignatureStatus.VALID, show_name=True)
        .order_by("-created_at")
        .values_list(
            "person__first_name",
            "person__last_name",
            "person__country",
            "comment",
            "comment_hidden_at",
        )[:RECENT_SIGNERS]
    )
    return [
        RecentSigner(
            name=display_name(first, last),
            place=str(COUNTRY_NAMES.get(country, "")),
            comment="" if hidden else _shortened(comment),
        )
        for first, last, country, comment, hidden in rows
        if first
    ]


def _shortened(comment: str, limit: int = RECENT_COMMENT_CHARACTERS) -> str:
    text = " ".join(comment.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
