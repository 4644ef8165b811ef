"""Marking a signature thanked: the thank-you email went, or an "already signed" note
or a confirmation email may go (petitions/tasks.py sends them)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import F, Q
from django.utils import timezone

from groundswell.petitions.models import Signature, SignatureConfirmation, SignatureStatus

# Someone typing a signer's address again hears about it by email at most this often,
# so the form cannot be used to flood their inbox.
ALREADY_SIGNED_NOTE_EVERY = timedelta(days=1)
# One pending signature's confirmation email goes at most this many times (signing
# again sends it again), at least this far apart; with THANK_YOU_EMAILS_PER_DAY across
# petitions, so that typing someone's address again and again cannot fill their inbox.
CONFIRMATION_EMAILS_MAX = 3
CONFIRMATION_EMAIL_EVERY = timedelta(minutes=10)


def do_claim_already_signed_note(signature_id: int) -> bool:
    """May we tell this signer, now, that their address was used to sign again? Only
    once thanked, and then once per ALREADY_SIGNED_NOTE_EVERY; claimed before sending
    (conditional, so of two racing one wins): a note lost to a mail failure is not sent
    again, which is fine for a courtesy."""
    now = timezone.now()
    return (
        Signature.objects.filter(
            pk=signature_id, thanked_at__lt=now - ALREADY_SIGNED_NOTE_EVERY
        ).update(thanked_at=now)
        == 1
    )


def do_mark_thanked(signature_id: int) -> bool:
    """The thank-you email went. Conditional, so of two retries racing, one marks it."""
    return (
        Signature.objects.filter(pk=signature_id, thanked_at=None).update(thanked_at=timezone.now())
        == 1
    )


def do_claim_confirmation_email(signature_id: int, *, now: datetime | None = None) -> bool:
    """May the confirmation email of this pending signature go, now? At most
    CONFIRMATION_EMAILS_MAX times, CONFIRMATION_EMAIL_EVERY apart; claimed before
    sending (conditional, so of two racing one wins)."""
    now = now or timezone.now()
    return (
        SignatureConfirmation.objects.filter(
            Q(emailed_at=None) | Q(emailed_at__lte=now - CONFIRMATION_EMAIL_EVERY),
            signature_id=signature_id,
            signature__status=SignatureStatus.PENDING,
            emails_sent__lt=CONFIRMATION_EMAILS_MAX,
        ).update(emails_sent=F("emails_sent") + 1, emailed_at=now)
        == 1
    )
