"""The figures the staff dashboard draws for a petition: its tallies plus the
signatures since they were refreshed, as series and rankings."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db.models import Sum
from django.utils import timezone

from groundswell.petitions.models import Petition, SignatureTally, TallyDimension, TallyMark
from groundswell.petitions.tally.counting import Buckets, grouped, hour_of

# The hourly series covers this much; the daily one covers the whole petition.
HOURLY_SPAN = timedelta(hours=72)


def figures(petition: Petition, *, now: datetime | None = None) -> dict[str, Any]:
    """Everything the dashboard draws, JSON-ready: the tallies plus the newest
    signatures. `total` is the sum of the hours (the public count is refreshed apart)."""
    now = now or timezone.now()
    mark = TallyMark.objects.filter(petition=petition).first()
    if mark is None:  # not tallied yet: a new petition, or before the worker's first run
        buckets = grouped(petition.pk, None, None)
    else:
        buckets = grouped(petition.pk, mark.counted_before, None)
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
            buckets[(TallyDimension.ALL, hour_of(hour), "")] += n
    return shape(buckets, now)


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


def shape(buckets: Buckets, now: datetime) -> dict[str, Any]:
    """The figures from grouped signatures, tallied or not."""
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
    end = hour_of(now)
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
