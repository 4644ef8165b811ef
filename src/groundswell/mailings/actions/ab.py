"""A/B subjects: when to decide, the samples' scores, choosing the winner."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from ..ab_clicks import unique_clickers
from ..models import AbMetric, Mailing, MailingRecipient, MailingStatus, RecipientState
from ..progress import PENDING_STATES
from .send import SendError, after_start, locked

logger = logging.getLogger(__name__)


def is_waiting_for_ab_winner(mailing: Mailing) -> bool:
    return bool(mailing.subject_b) and not mailing.ab_winner


def samples_are_out(mailing_id: int) -> bool:
    return not MailingRecipient.objects.filter(
        mailing_id=mailing_id,
        variant__in=("A", "B"),
        state__in=PENDING_STATES,
    ).exists()


def do_set_ab_decision_time(mailing_id: int) -> datetime | None:
    """Once both samples are out, fix when the winner is chosen. Returns it, if set now."""
    decide_at = None
    with transaction.atomic():
        mailing = Mailing.objects.select_for_update().get(pk=mailing_id)
        if (
            mailing.status == MailingStatus.SENDING
            and is_waiting_for_ab_winner(mailing)
            and mailing.ab_decide_at is None
            and samples_are_out(mailing_id)
        ):
            decide_at = timezone.now() + timedelta(minutes=mailing.ab_wait_minutes)
            mailing.ab_decide_at = decide_at
            mailing.save(update_fields=["ab_decide_at", "updated_at"])
    return decide_at


def _unique_clicks(mailing: Mailing, variant: str) -> int | None:
    """Unique clickers among a sample, or None when no app counts clicks (ab_clicks.py)."""
    people = MailingRecipient.objects.filter(mailing=mailing, variant=variant).values("person_id")
    return unique_clickers(mailing.pk, people)


def _unique_actions(mailing: Mailing, variant: str) -> int:
    from groundswell.petitions.models import Signature, SignatureStatus

    people = MailingRecipient.objects.filter(mailing=mailing, variant=variant).values("person_id")
    return (
        Signature.objects.filter(
            mailing_id=mailing.pk, status=SignatureStatus.VALID, person_id__in=people
        )
        .values("person_id")
        .distinct()
        .count()
    )


def ab_scores(mailing: Mailing) -> dict[str, dict[str, float]]:
    """Per variant: sample size, the chosen metric's unique count, and its rate."""
    scores: dict[str, dict[str, float]] = {}
    for variant in ("A", "B"):
        size = MailingRecipient.objects.filter(mailing=mailing, variant=variant).count()
        count: int | None = None
        if mailing.ab_metric == AbMetric.CLICKS:
            count = _unique_clicks(mailing, variant)
        if count is None:
            count = _unique_actions(mailing, variant)
        scores[variant] = {"size": size, "count": count, "rate": count / size if size else 0.0}
    return scores


def do_choose_ab_winner(mailing: Mailing, winner: str | None = None) -> Mailing:
    """Pick the better subject (ties go to A) and release the held-back recipients with it."""
    with transaction.atomic():
        mailing = locked(mailing)
        if not is_waiting_for_ab_winner(mailing):
            raise SendError(_("This mailing is not waiting for an A/B winner."))
        if winner is None:
            scores = ab_scores(mailing)
            winner = "B" if scores["B"]["rate"] > scores["A"]["rate"] else "A"
        if winner not in ("A", "B"):
            raise SendError(_("The winner is A or B."))
        mailing.ab_winner = winner
        mailing.ab_decide_at = mailing.ab_decide_at or timezone.now()
        mailing.save(update_fields=["ab_winner", "ab_decide_at", "updated_at"])
        MailingRecipient.objects.filter(
            Q(state=RecipientState.QUEUED) | Q(state=RecipientState.CANCELLED),
            mailing=mailing,
            variant="",
        ).update(variant=winner)
        logger.info("Mailing %s: subject %s won the A/B test", mailing.pk, winner)
        if mailing.status == MailingStatus.SENDING:
            mailing_id = mailing.pk
            transaction.on_commit(lambda: after_start(mailing_id))
    return mailing
