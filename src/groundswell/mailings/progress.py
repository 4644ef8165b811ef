"""Where a send stands: queries for tasks and the CLI, and the staff page's progress bar."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Min, Q
from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from groundswell.orgs.access import staff_required

from .models import Mailing, MailingRecipient, RecipientState, SendWorker
from .recovery import STALE_AFTER

PENDING_STATES = (RecipientState.QUEUED, RecipientState.CLAIMED, RecipientState.SENDING)


def has_ready_recipients(mailing_id: int) -> bool:
    return (
        MailingRecipient.objects.filter(
            Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=timezone.now()),
            mailing_id=mailing_id,
            state=RecipientState.QUEUED,
        )
        .exclude(variant="")
        .exists()
    )


def next_retry_at(mailing_id: int) -> datetime | None:
    return (
        MailingRecipient.objects.filter(
            mailing_id=mailing_id, state=RecipientState.QUEUED, next_attempt_at__isnull=False
        )
        .exclude(variant="")
        .aggregate(at=Min("next_attempt_at"))["at"]
    )


def live_lanes(mailing_id: int) -> int:
    fresh = timezone.now() - STALE_AFTER
    return SendWorker.objects.filter(mailing_id=mailing_id, heartbeat_at__gte=fresh).count()


def sent_count() -> Count:
    """Annotation for a Mailing queryset: its recipients sent so far (one query for a list)."""
    return Count("recipients", filter=Q(recipients__state=RecipientState.SENT))


def state_counts(mailing_id: int) -> dict[str, int]:
    counts = {state.value: 0 for state in RecipientState}
    for row in (
        MailingRecipient.objects.filter(mailing_id=mailing_id)
        .values("state")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        counts[row["state"]] = row["n"]
    return counts


RATE_WINDOW_SECONDS = 10


def progress(mailing: Mailing) -> dict[str, Any]:
    """What the staff page's progress bar shows."""
    counts = state_counts(mailing.pk)
    # Messages a second over the last few seconds (or since the start, if later): a
    # fast send of a small list is over well within a minute.
    now = timezone.now()
    since = now - timedelta(seconds=RATE_WINDOW_SECONDS)
    if mailing.started_at and mailing.started_at > since:
        since = mailing.started_at
    window = max(1.0, (now - since).total_seconds())
    recent = MailingRecipient.objects.filter(mailing_id=mailing.pk, sent_at__gte=since).count()
    held = 0
    if mailing.subject_b and not mailing.ab_winner:
        held = MailingRecipient.objects.filter(
            mailing_id=mailing.pk, state=RecipientState.QUEUED, variant=""
        ).count()
    return {
        "id": mailing.pk,
        "status": mailing.status,
        "total": mailing.recipient_count,
        "sent": counts[RecipientState.SENT],
        "failed": counts[RecipientState.FAILED],
        "unknown": counts[RecipientState.UNKNOWN],
        "cancelled": counts[RecipientState.CANCELLED],
        "waiting": counts[RecipientState.QUEUED]
        + counts[RecipientState.CLAIMED]
        + counts[RecipientState.SENDING],
        "held_for_ab": held,
        "ab_winner": mailing.ab_winner,
        "ab_decide_at": mailing.ab_decide_at.isoformat() if mailing.ab_decide_at else None,
        "rate": round(recent / window, 1),
        "started_at": mailing.started_at.isoformat() if mailing.started_at else None,
        "finished_at": mailing.finished_at.isoformat() if mailing.finished_at else None,
    }


# The staff page's line under its bar: drawn with the page, then kept up by its script.
PROGRESS_LINE = gettext_lazy(
    "SENT of TOTAL sent · RATE per second · FAILED failed · UNKNOWN unknown"
)


def progress_line(figures: dict[str, Any]) -> str:
    line = str(PROGRESS_LINE)
    for placeholder, key in (
        ("SENT", "sent"),
        ("TOTAL", "total"),
        ("RATE", "rate"),
        ("FAILED", "failed"),
        ("UNKNOWN", "unknown"),
    ):
        value = figures[key] or 0
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # "12 per second", as the script writes it
        line = line.replace(placeholder, number_format(value, force_grouping=True))
    return line


def pending_count(mailing_id: int, states: Iterable[str] = PENDING_STATES) -> int:
    return MailingRecipient.objects.filter(mailing_id=mailing_id, state__in=list(states)).count()


@never_cache
@require_GET
@staff_required
def progress_json(request: HttpRequest, mailing_id: int) -> JsonResponse:
    mailing = get_object_or_404(Mailing.objects.visible_to(request.user), pk=mailing_id)
    return JsonResponse(progress(mailing))
