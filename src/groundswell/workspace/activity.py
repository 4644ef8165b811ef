"""Unusual activity on a petition, for the trust page: where its recent signatures came
from (client networks, email domains, postal codes) and how fast (per hour), with what
stands out highlighted.

What counts as unusual, in words a moderator can check by hand:

- A network, domain or postal code is an *outlier* when it holds at least
  OUTLIER_MIN_COUNT of the period's signatures and more than OUTLIER_FACTOR times what
  it should have: its share of the petition's signatures before the period applied to
  the period's total, or what a typical value got in the period (the period's
  signatures divided by its distinct values), whichever is more. So gmail.com keeping
  its usual third is not flagged, a domain nobody used before bringing three thousand
  signatures in a day is, and so is one address signing twenty times. A big webmail
  provider (lib/limits.py LARGE_PROVIDERS, which the signing limits exempt too) is
  judged by its own earlier share alone: a new petition's first day has no earlier
  share, and a third of its signers on gmail.com is what a crowd looks like.
- An hour is a *spike* when it holds at least SPIKE_MIN_COUNT signatures and more than
  SPIKE_FACTOR times the petition's usual hour: the median of its hours over the last
  three days (since it opened, if later), the hour under way left out.

Everything is read through indexes: the period's signatures through (petition,
created_at), the earlier share of the few values shown through the indexes on
(petition, network or domain, status, created_at), the hours from the dashboard's
tallies.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Window
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from groundswell.lib.limits import LARGE_PROVIDERS
from groundswell.petitions.models import Petition, Signature, SignatureStatus
from groundswell.petitions.tally import dashboard

PERIODS: dict[str, tuple[timedelta, Any]] = {
    "day": (timedelta(days=1), _("the last 24 hours")),
    "week": (timedelta(days=7), _("the last 7 days")),
    "month": (timedelta(days=30), _("the last 30 days")),
}
DEFAULT_PERIOD = "day"
TOP = 10
OUTLIER_MIN_COUNT = 10
OUTLIER_FACTOR = 4
SPIKE_MIN_COUNT = 20
SPIKE_FACTOR = 4


@dataclass(frozen=True)
class Row:
    value: str
    label: str
    count: int
    share: float  # of the period's signatures, 0 to 1
    expected: float
    is_outlier: bool

    @property
    def percent(self) -> str:
        return f"{100 * self.share:.1f}"

    @property
    def times_expected(self) -> str:
        if not self.expected:
            return ""
        times = self.count / self.expected
        return f"{times:.1f}" if times < 10 else f"{times:.0f}"


@dataclass(frozen=True)
class Ranking:
    key: str  # the criterion it fills in: network, domain or postal code
    rows: list[Row]
    distinct: int

    @property
    def outliers(self) -> int:
        return sum(row.is_outlier for row in self.rows)


@dataclass(frozen=True)
class Hour:
    hour: datetime
    count: int
    is_spike: bool


@dataclass(frozen=True)
class Activity:
    period: str
    since: datetime
    total: int
    before: int
    networks: Ranking
    domains: Ranking
    postal_codes: Ranking
    hours: list[Hour]
    usual_hour: float
    spike_threshold: int

    @property
    def spikes(self) -> int:
        return sum(hour.is_spike for hour in self.hours)


def period_of(asked: str) -> str:
    return asked if asked in PERIODS else DEFAULT_PERIOD


def activity(petition: Petition, period: str, *, now: datetime | None = None) -> Activity:
    now = now or timezone.now()
    since = now - PERIODS[period_of(period)][0]
    valid = Signature.objects.filter(petition=petition, status=SignatureStatus.VALID)
    recent = valid.filter(created_at__gte=since)
    total = recent.count()
    # From the (petition, status) index alone, as the public count: not the older
    # signatures one by one.
    before = max(0, valid.count() - total)
    hours, usual, threshold = _hours(petition, now)
    return Activity(
        period=period_of(period),
        since=since,
        total=total,
        before=before,
        networks=_ranking("network", recent, valid, ("client_network",), total, before),
        domains=_ranking("domain", recent, valid, ("email_domain",), total, before),
        postal_codes=_ranking(
            "postal_code",
            # An inner join: erased signers have no postal code to rank.
            recent.filter(person__isnull=False),
            valid,
            ("person__country", "person__postal_code"),
            total,
            before,
        ),
        hours=hours,
        usual_hour=usual,
        spike_threshold=threshold,
    )


def _ranking(
    key: str,
    recent: Any,
    valid: Any,
    fields: tuple[str, ...],
    total: int,
    before: int,
) -> Ranking:
    """The period's TOP values of `fields` (the last is the value; a postal code is
    shown with its country), with how many each had before the period."""
    value_field = fields[-1]
    # One pass: the top values, and (a window over the groups) how many there are.
    grouped = list(
        recent.values(*fields)
        .annotate(n=Count("pk"), groups=Window(Count("*")))
        .order_by("-n", *fields)[:TOP]
    )
    # The blank value (not recorded) is a group, not a value.
    distinct = grouped[0]["groups"] if grouped else 0
    if any(not row[value_field] for row in grouped):
        distinct -= 1
    shown = [row[value_field] or "" for row in grouped if row[value_field]]
    earlier: dict[tuple[str, ...], int] = {}
    if shown and before:
        # All valid signatures with these values, read from the index alone for a
        # network or a domain (petitions/models.py); minus the period's own, below.
        for row in (
            valid.filter(**{f"{value_field}__in": shown})
            .values(*fields)
            .annotate(n=Count("pk"))
            .order_by()
        ):
            earlier[tuple(row[f] or "" for f in fields)] = row["n"]
    typical = total / distinct if distinct else 0.0
    rows = []
    for row in grouped:
        values = tuple(row[f] or "" for f in fields)
        count = row["n"]
        value = values[-1]
        history = earlier.get(values, count) - count
        predicted = total * history / before if before else 0.0
        is_webmail = key == "domain" and value in LARGE_PROVIDERS
        expected = predicted if is_webmail else max(predicted, typical)
        rows.append(
            Row(
                value=value,
                label=" ".join(v for v in values if v) if value else "",
                count=count,
                share=count / total if total else 0.0,
                expected=expected,
                is_outlier=bool(value)
                and count >= OUTLIER_MIN_COUNT
                and count > OUTLIER_FACTOR * expected
                and not (is_webmail and not history),
            )
        )
    return Ranking(key=key, rows=rows, distinct=distinct)


def recent_hours(petition: Petition, now: datetime) -> tuple[list[tuple[datetime, int]], float]:
    """The dashboard's last three days of hours (its tallies, plus the newest
    signatures) since the petition opened, and its usual hour: their median, the hour
    under way left out."""
    series = dashboard.figures(petition, now=now)["by_hour"]
    started = petition.opened_at or petition.created_at
    counts = [
        (datetime.fromisoformat(row["hour"]), int(row["count"]))
        for row in series
        # Hours before the petition opened would pull its usual rate down to nothing.
        if datetime.fromisoformat(row["hour"]) > started - timedelta(hours=1)
    ]
    finished = [n for _, n in counts[:-1]]
    return counts, float(statistics.median(finished)) if finished else 0.0


def _hours(petition: Petition, now: datetime) -> tuple[list[Hour], float, int]:
    counts, usual = recent_hours(petition, now)
    threshold = max(SPIKE_MIN_COUNT, int(SPIKE_FACTOR * usual) + 1)
    hours = [Hour(hour=hour, count=n, is_spike=n >= threshold) for hour, n in counts]
    return hours, usual, threshold


def hours_for_chart(hours: list[Hour], threshold: int) -> dict[str, Any]:
    """What static/workspace/trust.js draws: seconds since the epoch, counts, and the
    spike threshold as a line."""
    return {
        "hours": [int(h.hour.timestamp()) for h in hours],
        "counts": [h.count for h in hours],
        "threshold": threshold,
    }
