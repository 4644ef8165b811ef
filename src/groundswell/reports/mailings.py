"""The report of one mailing: delivery, opens, clicks, actions, unsubscribes, complaints.

Every number is counted by the database (a fixed handful of queries, whatever the
size of the mailing). Unique counts are distinct recipients. Clicks are split into
people's and machines' (tracking/machine.py); unique clicks, per-link unique
clicks and the timeline count people's clicks only.

`mailing_report` returns plain JSON-ready values; `format_report_text` turns that
into the text `groundswell mailing report ID` prints.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import Count, Max, Min, Q, QuerySet
from django.db.models.functions import TruncDay, TruncHour, TruncMinute
from django.utils import timezone
from django.utils.translation import gettext as _

from groundswell.mailings.models import Mailing, MailingRecipient, RecipientState, TrackedLink
from groundswell.petitions.models import Signature, SignatureStatus
from groundswell.tracking.models import Click, Open

# Gmail's and Yahoo's bulk-sender rule: keep complaints under 0.1% of messages sent.
COMPLAINT_WARNING_RATE = 0.001
# The timeline stops after this many hours (60 days) so a report stays small.
MAX_TIMELINE_HOURS = 24 * 60


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 6) if whole else 0.0


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _recipient_counts(mailing: Mailing) -> dict[str, int]:
    def state(value: str) -> Count:
        return Count("id", filter=Q(state=value))

    return MailingRecipient.objects.filter(mailing=mailing).aggregate(
        recipients=Count("id"),
        queued=Count(
            "id",
            filter=Q(
                state__in=[RecipientState.QUEUED, RecipientState.CLAIMED, RecipientState.SENDING]
            ),
        ),
        sent=state(RecipientState.SENT),
        failed=state(RecipientState.FAILED),
        unknown=state(RecipientState.UNKNOWN),
        cancelled=state(RecipientState.CANCELLED),
        bounced=Count("id", filter=Q(bounced_at__isnull=False)),
        complaints=Count("id", filter=Q(complained_at__isnull=False)),
        unsubscribes=Count("id", filter=Q(unsubscribed_at__isnull=False)),
    )


def _events(mailing: Mailing) -> dict[str, tuple[QuerySet[Any], str]]:
    """Each line of the timeline: its rows and their time field."""
    return {
        "opens": (Open.objects.filter(mailing=mailing), "opened_at"),
        "clicks": (Click.objects.filter(mailing=mailing, is_machine=False), "clicked_at"),
        "machine_clicks": (Click.objects.filter(mailing=mailing, is_machine=True), "clicked_at"),
        "actions": (_signatures(mailing), "created_at"),
    }


def _counts_by(mailing: Mailing, trunc: Any) -> dict[str, dict[datetime, int]]:
    return {
        name: dict(
            queryset.annotate(at=trunc(field))
            .values("at")
            .annotate(n=Count("id"))
            .values_list("at", "n")
        )
        for name, (queryset, field) in _events(mailing).items()
    }


def _timeline(mailing: Mailing) -> list[dict[str, Any]]:
    """Opens, people's clicks and actions per hour, from the first hour with any to
    the last, hours without any included as zeros."""
    series = _counts_by(mailing, TruncHour)
    hours = [hour for counts in series.values() for hour in counts]
    if not hours:
        return []
    first, last = min(hours), max(hours)
    last = min(last, first + timedelta(hours=MAX_TIMELINE_HOURS - 1))
    timeline = []
    hour = first
    while hour <= last:
        timeline.append(
            {"hour": hour.isoformat(), **{name: series[name].get(hour, 0) for name in series}}
        )
        hour += timedelta(hours=1)
    return timeline


# The chart's step follows how long the events span, so its axis fits them: minutes
# while a mailing is fresh, then hours, then days.
CHART_STEPS = (
    ("minute", timedelta(minutes=1), TruncMinute, timedelta(hours=3)),
    ("hour", timedelta(hours=1), TruncHour, timedelta(days=7)),
    ("day", timedelta(days=1), TruncDay, None),
)


def chart_timeline(mailing: Mailing) -> dict[str, Any]:
    """The chart's points: `step` (minute, hour or day), `times` (ISO, every step from
    the first event's to the last's, at least two) and each line's counts."""
    bounds = [
        queryset.aggregate(first=Min(field), last=Max(field))
        for queryset, field in _events(mailing).values()
    ]
    firsts = [b["first"] for b in bounds if b["first"] is not None]
    if not firsts:
        return {"step": "minute", "times": [], "series": {}}
    span = max(b["last"] for b in bounds if b["last"] is not None) - min(firsts)
    name, step, trunc, _ = next(
        option for option in CHART_STEPS if option[3] is None or span <= option[3]
    )
    series = _counts_by(mailing, trunc)
    moments = sorted({moment for counts in series.values() for moment in counts})
    first, last = moments[0], max(moments[-1], moments[0] + step)
    times = []
    moment = first
    while moment <= last:
        times.append(moment)
        # Days step by the local calendar (a day with a clock change is 23 or 25 hours),
        # minutes and hours by the clock.
        moment = (
            timezone.localtime(moment) + step if name == "day" else moment.astimezone(UTC) + step
        )
    return {
        "step": name,
        "times": [moment.isoformat() for moment in times],
        "series": {
            key: [counts.get(moment, 0) for moment in times] for key, counts in series.items()
        },
    }


def _signatures(mailing: Mailing) -> Any:
    return Signature.objects.filter(mailing_id=mailing.pk, status=SignatureStatus.VALID)


def mailing_report(mailing: Mailing) -> dict[str, Any]:
    counts = _recipient_counts(mailing)
    opens = Open.objects.filter(mailing=mailing).aggregate(
        total=Count("id"), unique=Count("person", distinct=True)
    )
    clicks = Click.objects.filter(mailing=mailing).aggregate(
        total=Count("id", filter=Q(is_machine=False)),
        unique=Count("person", distinct=True, filter=Q(is_machine=False)),
        machine=Count("id", filter=Q(is_machine=True)),
        machine_recipients=Count("person", distinct=True, filter=Q(is_machine=True)),
        without_recipient=Count("id", filter=Q(is_machine=False, person__isnull=True)),
    )
    per_link = {
        row["link_number"]: row
        for row in Click.objects.filter(mailing=mailing)
        .values("link_number")
        .annotate(
            clicks=Count("id", filter=Q(is_machine=False)),
            unique=Count("person", distinct=True, filter=Q(is_machine=False)),
            machine=Count("id", filter=Q(is_machine=True)),
        )
        .order_by()
    }
    actions_by_link = dict(
        _signatures(mailing)
        .values("link_number")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("link_number", "n")
    )
    links = []
    for link in TrackedLink.objects.filter(mailing=mailing).order_by("number"):
        row = per_link.get(link.number, {})
        links.append(
            {
                "number": link.number,
                "kind": link.kind,
                "url": link.url,
                "label": link.label,
                "unique_clicks": row.get("unique", 0),
                "clicks": row.get("clicks", 0),
                "machine_clicks": row.get("machine", 0),
                "actions": actions_by_link.get(link.number, 0),
            }
        )
    actions = sum(actions_by_link.values())
    link_numbers = {link["number"] for link in links}
    # Delivered or not, a sent message is what receivers judge complaints against.
    sent = counts["sent"]
    complaint_rate = _rate(counts["complaints"], sent)
    return {
        "mailing": {
            "id": mailing.pk,
            "subject": mailing.subject,
            "status": mailing.status,
            "started_at": _iso(mailing.started_at),
            "finished_at": _iso(mailing.finished_at),
        },
        "generated_at": timezone.now().isoformat(),
        "recipients": counts["recipients"],
        "queued": counts["queued"],
        "sent": sent,
        "failed": counts["failed"],
        "unknown": counts["unknown"],
        "cancelled": counts["cancelled"],
        "bounced": counts["bounced"],
        "opens": {
            "unique": opens["unique"],
            "total": opens["total"],
            "unique_rate": _rate(opens["unique"], sent),
        },
        "clicks": {
            "unique": clicks["unique"],
            "total": clicks["total"],
            "unique_rate": _rate(clicks["unique"], sent),
            "without_recipient": clicks["without_recipient"],
            "machine": clicks["machine"],
            "machine_recipients": clicks["machine_recipients"],
        },
        "links": links,
        "actions": {
            "total": actions,
            "rate": _rate(actions, sent),
            # Signed from the mailing, but not through one of its numbered links.
            "without_link": sum(
                n for number, n in actions_by_link.items() if number not in link_numbers
            ),
        },
        "unsubscribes": {
            "total": counts["unsubscribes"],
            "rate": _rate(counts["unsubscribes"], sent),
        },
        "complaints": {
            "total": counts["complaints"],
            "rate": complaint_rate,
            "warning": complaint_rate > COMPLAINT_WARNING_RATE,
        },
        "timeline": _timeline(mailing),
    }


def _percent(rate: float) -> str:
    return f"{rate * 100:.1f}%" if rate >= 0.01 or rate == 0 else f"{rate * 100:.2f}%"


def summary_rows(report: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(label, number, share of sent) for the main table, shared by the page, CSV and CLI.
    Before anything is sent there is no share to give: those cells stay empty."""
    o, c, a = report["opens"], report["clicks"], report["actions"]
    u, k = report["unsubscribes"], report["complaints"]
    sent = report["sent"]

    def share(rate: float) -> str:
        return _percent(rate) if sent else ""

    return [
        (_("Recipients"), str(report["recipients"]), ""),
        (_("Sent"), str(sent), ""),
        (_("Waiting to send"), str(report["queued"]), ""),
        (_("Failed"), str(report["failed"]), share(_rate(report["failed"], sent))),
        (_("Unknown (worker stopped mid-send)"), str(report["unknown"]), ""),
        (_("Bounced"), str(report["bounced"]), share(_rate(report["bounced"], sent))),
        (_("Unique opens"), str(o["unique"]), share(o["unique_rate"])),
        (_("Unique clicks (people)"), str(c["unique"]), share(c["unique_rate"])),
        (_("Clicks by people"), str(c["total"]), ""),
        (_("Machine clicks"), str(c["machine"]), ""),
        (_("Actions (signatures)"), str(a["total"]), share(a["rate"])),
        (_("Unsubscribes"), str(u["total"]), share(u["rate"])),
        (_("Complaints"), str(k["total"]), share(k["rate"])),
    ]


def format_report_text(report: dict[str, Any]) -> str:
    mailing = report["mailing"]
    lines = [
        _("Mailing %(id)s: %(subject)s") % {"id": mailing["id"], "subject": mailing["subject"]},
        _("Status: %(status)s") % {"status": mailing["status"]},
        "",
    ]
    rows = summary_rows(report)
    width = max(len(label) for label, _n, _r in rows)
    for label, number, rate in rows:
        lines.append(f"{label:<{width}}  {number:>9}  {rate}".rstrip())
    if report["complaints"]["warning"]:
        lines += [
            "",
            _(
                "WARNING: complaints are above 0.1% of messages sent; receivers may start "
                "rejecting this organisation's mail."
            ),
        ]
    if report["links"]:
        lines += ["", _("Links:")]
        lines.append(
            "  "
            + "  ".join(
                [
                    f"{_('t'):>3}",
                    f"{_('unique'):>7}",
                    f"{_('clicks'):>7}",
                    f"{_('machine'):>7}",
                    f"{_('actions'):>7}",
                    _("destination"),
                ]
            )
        )
        for link in report["links"]:
            lines.append(
                "  "
                + "  ".join(
                    [
                        f"{link['number']:>3}",
                        f"{link['unique_clicks']:>7}",
                        f"{link['clicks']:>7}",
                        f"{link['machine_clicks']:>7}",
                        f"{link['actions']:>7}",
                        link["url"] + (f"  ({link['label']})" if link["label"] else ""),
                    ]
                )
            )
    if report["clicks"]["without_recipient"]:
        lines += [
            "",
            _("%(n)s clicks by people came without a valid member token (forwarded copies).")
            % {"n": report["clicks"]["without_recipient"]},
        ]
    return "\n".join(lines) + "\n"


def report_csv_rows(report: dict[str, Any]) -> list[list[object]]:
    """The report as spreadsheet rows: the summary, the links, then the timeline."""
    rows: list[list[object]] = [[_("Measure"), _("Number"), _("Share of sent")]]
    rows += [list(row) for row in summary_rows(report)]
    rows += [
        [],
        [
            _("Link (t)"),
            _("Destination"),
            _("Link text"),
            _("Unique clicks (people)"),
            _("Clicks by people"),
            _("Machine clicks"),
            _("Actions"),
        ],
    ]
    rows += [
        [
            link["number"],
            link["url"],
            link["label"],
            link["unique_clicks"],
            link["clicks"],
            link["machine_clicks"],
            link["actions"],
        ]
        for link in report["links"]
    ]
    rows += [[], [_("Hour"), _("Opens"), _("Clicks by people"), _("Machine clicks"), _("Actions")]]
    rows += [
        [row["hour"], row["opens"], row["clicks"], row["machine_clicks"], row["actions"]]
        for row in report["timeline"]
    ]
    return rows
