"""Marking a signature thanked: the thank-you email went, or an "already signed" note
may go (petitions/tasks.py sends both)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from groundswell.petitions.models import Signature

# Someone typing a signer's address again hears about it by email at most this often,
# so the form cannot be used to flood their inbox.
ALREADY_SIGNED_NOTE_EVERY = timedelta(days=1)


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
