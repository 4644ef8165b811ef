"""Keeping a petition's tallies: the worker's refresh up to now, and old hours merged
into days."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from groundswell.lib.db import insert_all
from groundswell.petitions.models import (
    Petition,
    Signature,
    SignatureTally,
    TallyDimension,
    TallyMark,
)
from groundswell.petitions.tally.counting import Buckets, day_start, grouped, hour_of
from groundswell.petitions.tally.dashboard import HOURLY_SPAN

LATE = timedelta(minutes=10)
TALLY_EVERY = timedelta(seconds=30)
# Hourly rows older than this (from the start of that day) become one row per day.
COMPACT_AFTER = HOURLY_SPAN + timedelta(days=1)


def horizon(now: datetime, dimension: str = TallyDimension.ALL) -> datetime:
    """Rows before this are kept per day: the hourly series needs HOURLY_SPAN of hours,
    the other dimensions are only ever read as totals, so theirs are kept per hour
    only until their day is over (and LATE has passed)."""
    if dimension == TallyDimension.ALL:
        return day_start(now - COMPACT_AFTER)
    return day_start(now - LATE - timedelta(hours=1))


def _per_day_before_horizon(buckets: Buckets, now: datetime) -> Buckets:
    """A full recount's buckets as `compact` would leave them, so that it writes a
    month of a big petition as days (a moment of the write lock), not as hours."""
    merged: Buckets = defaultdict(int)
    horizons: dict[str, datetime] = {str(d): horizon(now, d) for d in TallyDimension}
    for (dimension, hour, value), n in buckets.items():
        day = day_start(hour) if hour < horizons[dimension] else hour
        merged[(dimension, day, value)] += n
    return merged


def compact(petition_id: int, *, now: datetime) -> int:
    """Merge hourly rows before their dimension's horizon into one row per day (a day
    row sits at the day's first hour): a month of a big petition is a few hundred
    thousand rows at most (its postal regions per day), not millions.
    Looks back two days before the horizon (refresh writes older hours per day
    already). Returns the rows it removed."""
    old = SignatureTally.objects.none()
    for kind in TallyDimension:
        before = horizon(now, kind)
        old |= SignatureTally.objects.filter(
            petition_id=petition_id,
            dimension=kind,
            hour__lt=before,
            hour__gte=before - timedelta(days=2),
        )
    with transaction.atomic():
        rows = list(old.values_list("dimension", "hour", "value", "count"))
        days: dict[tuple[str, datetime, str], int] = defaultdict(int)
        for dimension, hour, value, n in rows:
            days[(dimension, day_start(hour), value)] += n
        if len(days) == len(rows):
            return 0  # nothing hourly left among them
        old.delete()
        insert_all(
            [
                SignatureTally(
                    petition_id=petition_id, dimension=dim, hour=day, value=value, count=n
                )
                for (dim, day, value), n in days.items()
            ]
        )
    return len(rows) - len(days)


def refresh(petition_id: int, *, now: datetime | None = None) -> int:
    """Bring one petition's tallies up to `now`. Returns the signatures (re)counted,
    or 0 when tallied signatures changed meanwhile (the next refresh tries again).

    The grouping is a read outside the write transaction (on SQLite a write
    transaction holds the lock that signing waits for): only replacing the rows is
    written, in a moment."""
    now = now or timezone.now()
    mark = TallyMark.objects.filter(petition_id=petition_id).first()
    start = None if mark is None else hour_of(mark.counted_before - LATE)
    if start is not None and start < horizon(now, TallyDimension.SOURCE):
        start = None  # the worker was away for days: hours since were compacted, recount
    buckets = _per_day_before_horizon(grouped(petition_id, start, now), now)
    with transaction.atomic():
        current = TallyMark.objects.select_for_update().filter(petition_id=petition_id).first()
        if (current is None) != (mark is None) or (
            current is not None
            and mark is not None
            and (current.changed_at, current.counted_before)
            != (mark.changed_at, mark.counted_before)
        ):
            return 0
        old = SignatureTally.objects.filter(petition_id=petition_id)
        if start is not None:
            old = old.filter(hour__gte=start)
        old.delete()
        insert_all(
            [
                SignatureTally(
                    petition_id=petition_id, dimension=dim, hour=hour, value=value, count=n
                )
                for (dim, hour, value), n in buckets.items()
            ]
        )
        TallyMark.objects.update_or_create(
            petition_id=petition_id, defaults={"counted_before": now}
        )
    compact(petition_id, now=now)
    return sum(n for (dim, _, _), n in buckets.items() if dim == TallyDimension.ALL)


def petitions_to_refresh() -> list[int]:
    """Petitions with signatures newer than their mark, or never tallied."""
    marks = dict(TallyMark.objects.values_list("petition_id", "counted_before"))
    due = []
    for petition_id in Petition.objects.values_list("pk", flat=True):
        since = marks.get(petition_id)
        newer = Signature.objects.filter(petition_id=petition_id)
        if since is not None:
            newer = newer.filter(created_at__gte=since)
        if newer.exists():
            due.append(petition_id)
    return due
