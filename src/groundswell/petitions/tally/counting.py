"""Valid signatures per dimension, hour and value, grouped by the database: what a
refresh stores and what the dashboard adds for the newest signatures."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    DateTimeField,
    F,
    Func,
    Value,
    When,
)
from django.db.models.functions import Concat, Substr, Upper
from django.utils import timezone

from groundswell.petitions.models import Signature, SignatureStatus, TallyDimension

# A person created this close to their signature joined by signing: a new member.
NEW_MEMBER_WINDOW = timedelta(minutes=1)

Buckets = dict[tuple[str, datetime, str], int]


def hour_of(moment: datetime | str) -> datetime:
    """The UTC hour of a moment, or of an hour as the database grouped it."""
    if isinstance(moment, str):  # SQLite's "YYYY-MM-DD HH" from UtcHour
        return datetime.strptime(moment[:13], "%Y-%m-%d %H").replace(tzinfo=UTC)
    if timezone.is_naive(moment):  # PostgreSQL's hour AT TIME ZONE 'UTC'
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def day_start(hour: datetime) -> datetime:
    """The start of the hour's day in the site's time zone, as a UTC instant."""
    local = timezone.localtime(hour).replace(hour=0, minute=0, second=0, microsecond=0)
    return local.astimezone(UTC)


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


def grouped(
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
            buckets[(dimension, hour_of(hour), _label(dimension, value))] += n
    return buckets


def _label(dimension: str, value: Any) -> str:
    if dimension == TallyDimension.REFERRER:
        return _referrer_host(value or "")
    if dimension == TallyDimension.MEMBER:
        return "new" if value else "existing"
    return str(value or "").strip()[:120]
