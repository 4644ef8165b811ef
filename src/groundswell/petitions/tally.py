"""The staff dashboard's figures for a petition, fast at a million signatures.

Grouping a million signatures by hour, source and country on every request takes
seconds (about 0.45 s per grouping of 500,000 rows on SQLite). Instead a background
task (petitions.tasks.refresh_tallies, every TALLY_EVERY) keeps `SignatureTally`
rows: valid signatures per petition, hour and one dimension's value. `figures` reads
those (a few thousand rows) and adds the signatures created since the petition's
`TallyMark`, grouped on the fly (seconds' worth, found by the (petition, created_at)
index), so the figures are never behind the signatures.

A refresh recounts from LATE before the mark: a signature gets its time before its
transaction commits, and one that commits later than that is not counted (delete a
petition's TallyMark to recount it from the start). Invalidating, restoring,
erasing or merging signatures changes the tallies in the same transaction
(`tallies_follow`), so the dashboard drops an invalidated signature at once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    DateTimeField,
    F,
    Func,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Concat, Substr, Upper
from django.utils import timezone

from groundswell.lib.db import insert_all
from groundswell.petitions.models import (
    Petition,
    Signature,
    SignatureStatus,
    SignatureTally,
    TallyDimension,
    TallyMark,
)

LATE = timedelta(minutes=10)
# A person created this close to their signature joined by signing: a new member.
NEW_MEMBER_WINDOW = timedelta(minutes=1)
TALLY_EVERY = timedelta(seconds=30)
# The hourly series covers this much; the daily one covers the whole petition.
HOURLY_SPAN = timedelta(hours=72)
# Hourly rows older than this (from the start of that day) become one row per day.
COMPACT_AFTER = HOURLY_SPAN + timedelta(days=1)

Buckets = dict[tuple[str, datetime, str], int]


def _hour(moment: datetime | str) -> datetime:
    if isinstance(moment, str):  # SQLite's "YYYY-MM-DD HH" from UtcHour
        return datetime.strptime(moment[:13], "%Y-%m-%d %H").replace(tzinfo=UTC)
    if timezone.is_naive(moment):  # PostgreSQL's hour AT TIME ZONE 'UTC'
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


class UtcHour(Func):
    """The UTC hour of a timestamp, computed by the database itself: Django's TruncHour
    calls a Python function for every row on SQLite (about 20 times slower here).
    SQLite stores UTC text, so the hour is its first 13 characters."""

    output_field = CharField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="substr(%(expressions)s, 1, 13)")

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template="date_trunc('hour', %(expressions)s AT TIME ZONE 'UTC')",
            output_field=DateTimeField(),
        )


def _referrer_host(referer: str) -> str:
    try:
        return (urlsplit(referer).hostname or "").removeprefix("www.")[:120]
    except ValueError:
        return ""


def _grouped(
    petition_id: int,
    start: datetime | None,
    end: datetime | None,
    *,
    ids: Collection[int] | None = None,
) -> Buckets:
    """Valid signatures created in [start, end) (and among `ids`, if given) per
    dimension, hour and value, grouped by the database (one query per dimension)."""
    signatures = Signature.objects.filter(petition_id=petition_id, status=SignatureStatus.VALID)
    if ids is not None:
        signatures = signatures.filter(pk__in=ids)
    if start is not None:
        signatures = signatures.filter(created_at__gte=start)
    if end is not None:
        signatures = signatures.filter(created_at__lt=end)
    hourly = signatures.annotate(hour=UtcHour("created_at"))
    values: dict[str, Any] = {
        TallyDimension.ALL: Value(""),
        TallyDimension.SOURCE: F("source"),
        TallyDimension.REFERRER: F("http_referer"),
        TallyDimension.COUNTRY: F("person__country"),
        TallyDimension.REGION: Concat(
            F("person__country"), Value(" "), Upper(Substr("person__postal_code", 1, 3))
        ),
        TallyDimension.MEMBER: Case(
            When(person__created_at__gte=F("created_at") - NEW_MEMBER_WINDOW, then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        ),
    }
    buckets: Buckets = defaultdict(int)
    for dimension, expression in values.items():
        rows = (
            hourly.annotate(value=expression)
            .values("hour", "value")
            .annotate(n=Count("id"))
            .order_by()
            .values_list("hour", "value", "n")
        )
        for hour, value, n in rows:
            buckets[(dimension, _hour(hour), _label(dimension, value))] += n
    return buckets


def _label(dimension: str, value: Any) -> str:
    if dimension == TallyDimension.REFERRER:
        return _referrer_host(value or "")
    if dimension == TallyDimension.MEMBER:
        return "new" if value else "existing"
    return str(value or "").strip()[:120]


@contextmanager
def tallies_follow(signature_ids: Collection[int]) -> Iterator[None]:
    """Around a change to signatures that may already be tallied (invalidated,
    restored, anonymised, merged), inside the changing transaction: the tallies lose
    them as they were and gain them as they are, at once, and a refresh that counted
    before the change throws its result away."""
    ids = sorted(set(signature_ids))
    petition_ids = set(
        Signature.objects.filter(pk__in=ids).values_list("petition_id", flat=True).distinct()
    )
    marks = dict(
        TallyMark.objects.select_for_update()
        .filter(petition_id__in=petition_ids)
        .values_list("petition_id", "counted_before")
    )

    def counted() -> dict[tuple[int, str, datetime, str], int]:
        buckets: dict[tuple[int, str, datetime, str], int] = defaultdict(int)
        for petition_id, before in marks.items():
            for chunk in range(0, len(ids), 5000):
                found = _grouped(petition_id, None, before, ids=ids[chunk : chunk + 5000])
                for (dimension, hour, value), n in found.items():
                    buckets[(petition_id, dimension, hour, value)] += n
        return buckets

    old = counted()
    yield
    new = counted()
    deltas = {key: new.get(key, 0) - old.get(key, 0) for key in old.keys() | new.keys()}
    for petition_id in marks:
        _add(petition_id, {k[1:]: n for k, n in deltas.items() if k[0] == petition_id and n})
    TallyMark.objects.filter(petition_id__in=marks).update(changed_at=timezone.now())


def _add(petition_id: int, deltas: dict[tuple[str, datetime, str], int]) -> None:
    """Add each delta to its hour's row, or to its day's row once compacted (a new
    row when neither is there). The rows are read once and written in batches: a
    bulk invalidation of thousands of signatures touches thousands of rows, and one
    UPDATE each took most of its time. The caller holds the petition's TallyMark,
    which every writer of these rows takes first."""
    if not deltas:
        return
    hours = {hour for _, hour, _ in deltas} | {_day_start(hour) for _, hour, _ in deltas}
    values = sorted({value for _, _, value in deltas})
    rows: dict[tuple[str, datetime, str], list[int]] = {}
    for start in range(0, len(values), 5000):  # within SQLite's limit on parameters
        for pk, dimension, hour, value, count in SignatureTally.objects.filter(
            petition_id=petition_id,
            dimension__in={dimension for dimension, _, _ in deltas},
            hour__in=hours,
            value__in=values[start : start + 5000],
        ).values_list("pk", "dimension", "hour", "value", "count"):
            rows[(dimension, hour, value)] = [pk, count]
    changed: dict[int, list[int]] = {}
    added: dict[tuple[str, datetime, str], SignatureTally] = {}
    for (dimension, hour, value), delta in deltas.items():
        row = rows.get((dimension, hour, value)) or rows.get((dimension, _day_start(hour), value))
        if row is not None:
            row[1] += delta
            changed[row[0]] = row
        elif delta > 0:
            added[(dimension, hour, value)] = SignatureTally(
                petition_id=petition_id, dimension=dimension, hour=hour, value=value, count=delta
            )
    # One statement run for every row (bulk_update's CASE per row cost more in Python
    # than the writes did in the database).
    table = SignatureTally._meta.db_table
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET count = %s WHERE id = %s",  # noqa: S608 (our own name)
            # At or below zero the caller deletes the row; the column is unsigned.
            [(max(count, 0), pk) for pk, count in changed.values()],
        )
    insert_all(list(added.values()))
    # Only the rows changed here can have reached zero: deleting by their ids, not by
    # scanning the petition's every row for a zero count (a big petition has
    # hundreds of thousands, and a bulk invalidation calls this once per chunk).
    emptied = [pk for pk, count in changed.values() if count <= 0]
    for start in range(0, len(emptied), 5000):
        SignatureTally.objects.filter(pk__in=emptied[start : start + 5000]).delete()


def _day_start(hour: datetime) -> datetime:
    """The start of the hour's day in the site's time zone, as a UTC instant."""
    local = timezone.localtime(hour).replace(hour=0, minute=0, second=0, microsecond=0)
    return local.astimezone(UTC)


def _horizon(now: datetime, dimension: str = TallyDimension.ALL) -> datetime:
    """Rows before this are kept per day: the hourly series needs HOURLY_SPAN of hours,
    the other dimensions are only ever read as totals, so theirs are kept per hour
    only until their day is over (and LATE has passed)."""
    if dimension == TallyDimension.ALL:
        return _day_start(now - COMPACT_AFTER)
    return _day_start(now - LATE - timedelta(hours=1))


def _per_day_before_horizon(buckets: Buckets, now: datetime) -> Buckets:
    """A full recount's buckets as `compact` would leave them, so that it writes a
    month of a big petition as days (a moment of the write lock), not as hours."""
    merged: Buckets = defaultdict(int)
    horizons: dict[str, datetime] = {str(d): _horizon(now, d) for d in TallyDimension}
    for (dimension, hour, value), n in buckets.items():
        day = _day_start(hour) if hour < horizons[dimension] else hour
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
        horizon = _horizon(now, kind)
        old |= SignatureTally.objects.filter(
            petition_id=petition_id,
            dimension=kind,
            hour__lt=horizon,
            hour__gte=horizon - timedelta(days=2),
        )
    with transaction.atomic():
        rows = list(old.values_list("dimension", "hour", "value", "count"))
        days: dict[tuple[str, datetime, str], int] = defaultdict(int)
        for dimension, hour, value, n in rows:
            days[(dimension, _day_start(hour), value)] += n
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
    start = None if mark is None else _hour(mark.counted_before - LATE)
    if start is not None and start < _horizon(now, TallyDimension.SOURCE):
        start = None  # the worker was away for days: hours since were compacted, recount
    buckets = _per_day_before_horizon(_grouped(petition_id, start, now), now)
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


def figures(petition: Petition, *, now: datetime | None = None) -> dict[str, Any]:
    """Everything the dashboard draws, JSON-ready: the tallies plus the newest
    signatures. `total` is the sum of the hours (the public count is refreshed apart)."""
    now = now or timezone.now()
    mark = TallyMark.objects.filter(petition=petition).first()
    if mark is None:  # not tallied yet: a new petition, or before the worker's first run
        buckets = _grouped(petition.pk, None, None)
    else:
        buckets = _grouped(petition.pk, mark.counted_before, None)
        tallied = (
            SignatureTally.objects.filter(petition=petition)
            .values("dimension", "value")
            .annotate(n=Sum("count"))
            .exclude(dimension=TallyDimension.ALL)
            .values_list("dimension", "value", "n")
        )
        epoch = datetime(1970, 1, 1, tzinfo=UTC)  # totals per value need no hour
        for dimension, value, n in tallied:
            buckets[(dimension, epoch, value)] += n
        for hour, n in SignatureTally.objects.filter(
            petition=petition, dimension=TallyDimension.ALL
        ).values_list("hour", "count"):
            buckets[(TallyDimension.ALL, _hour(hour), "")] += n
    return _shape(buckets, now)


def _totals(buckets: Buckets, dimension: str) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for (dim, _, value), n in buckets.items():
        if dim == dimension:
            totals[value] += n
    return dict(totals)


def _ranked(totals: dict[str, int], key: str) -> list[dict[str, Any]]:
    return [
        {key: value, "count": n}
        for value, n in sorted(totals.items(), key=lambda item: (-item[1], item[0]))
    ]


def _shape(buckets: Buckets, now: datetime) -> dict[str, Any]:
    hours = _totals_by_hour(buckets)
    members = _totals(buckets, TallyDimension.MEMBER)
    return {
        "total": sum(hours.values()),
        "by_hour": _hourly(hours, now),
        "by_day": _daily(hours),
        "by_source": _ranked(_totals(buckets, TallyDimension.SOURCE), "source"),
        "by_referrer": _ranked(_totals(buckets, TallyDimension.REFERRER), "referrer"),
        "by_country": _ranked(_totals(buckets, TallyDimension.COUNTRY), "country"),
        "by_region": _ranked(_totals(buckets, TallyDimension.REGION), "region"),
        "new_members": members.get("new", 0),
        "existing_members": members.get("existing", 0),
    }


def _totals_by_hour(buckets: Buckets) -> dict[datetime, int]:
    hours: dict[datetime, int] = defaultdict(int)
    for (dim, hour, _), n in buckets.items():
        if dim == TallyDimension.ALL:
            hours[hour] += n
    return hours


def _hourly(hours: dict[datetime, int], now: datetime) -> list[dict[str, Any]]:
    """The last HOURLY_SPAN, every hour, with zeros."""
    end = _hour(now)
    start = end - HOURLY_SPAN + timedelta(hours=1)
    series = []
    hour = start
    while hour <= end:
        series.append({"hour": hour.isoformat(), "count": hours.get(hour, 0)})
        hour += timedelta(hours=1)
    return series


def _daily(hours: dict[datetime, int]) -> list[dict[str, Any]]:
    """Every day in the site's time zone from the first signature's to the last's,
    with the running total."""
    days: dict[date, int] = defaultdict(int)
    for hour, n in hours.items():
        days[timezone.localtime(hour).date()] += n
    if not days:
        return []
    series = []
    day, last, running = min(days), max(days), 0
    while day <= last:
        running += days.get(day, 0)
        series.append({"day": day.isoformat(), "count": days.get(day, 0), "cumulative": running})
        day += timedelta(days=1)
    return series
