"""Confirmation by email: a pending signature confirmed by its signer, and the ones
never confirmed removed (docs/security.md). Claiming its emails: actions/thanks.py."""

from __future__ import annotations

import enum
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from groundswell.members.actions.consent import Consent, do_subscribe_many
from groundswell.members.actions.people import do_delete_people_without_purpose
from groundswell.orgs.models import MailingList
from groundswell.petitions.confirmations import confirm_period
from groundswell.petitions.counter import refresh_petition_count
from groundswell.petitions.models import (
    PetitionStatus,
    Signature,
    SignatureConfirmation,
    SignatureStatus,
)
from groundswell.petitions.tally.follow import tallies_follow
from groundswell.petitions.tasks import enqueue_thank_yous

# Unconfirmed signatures removed per statement by the expiry task.
EXPIRY_BATCH = 1000


class Confirmed(enum.Enum):
    NOW = "now"  # this call confirmed it
    BEFORE = "before"  # it had been confirmed already: nothing changes
    CLOSED = "closed"  # its petition takes no signatures now: still pending
    GONE = "gone"  # expired, erased or invalidated: nothing to confirm


def do_confirm_signature(signature_id: int, *, now: datetime | None = None) -> Confirmed:
    """The signer pressed the button: the signature counts from now, the consent they
    gave on the form is recorded, and the thank-you email goes. Confirming again
    changes nothing."""
    now = now or timezone.now()
    with transaction.atomic():
        signature = (
            Signature.objects.select_for_update(of=("self",))
            .select_related("petition", "person")
            .filter(pk=signature_id)
            .first()
        )
        if signature is None or signature.person is None:
            return Confirmed.GONE
        if signature.status == SignatureStatus.VALID and signature.confirmed_at is not None:
            return Confirmed.BEFORE
        if signature.status != SignatureStatus.PENDING:
            return Confirmed.GONE
        if signature.created_at + confirm_period() <= now:
            return Confirmed.GONE
        petition = signature.petition
        if petition.status != PetitionStatus.OPEN or petition.signing_off:
            return Confirmed.CLOSED
        confirmation = SignatureConfirmation.objects.filter(signature=signature).first()
        # It was never tallied while pending: the dashboard gains it now.
        with tallies_follow([signature.pk]):
            Signature.objects.filter(pk=signature.pk).update(
                status=SignatureStatus.VALID, confirmed_at=now
            )
        if confirmation is not None:
            source = f"petition:{petition.slug}"
            lists = {
                ml.pk: ml
                for ml in MailingList.objects.filter(
                    pk__in=[list_id for list_id, _ in confirmation.consents]
                )
            }
            do_subscribe_many(
                [
                    Consent(
                        signature.person,
                        lists[list_id],
                        source=source,
                        wording=wording,
                        ip_address=confirmation.ip_address,
                    )
                    for list_id, wording in confirmation.consents
                    if list_id in lists
                ]
            )
            confirmation.delete()
        enqueue_thank_yous([signature.pk])
        transaction.on_commit(lambda: refresh_petition_count(petition))
    return Confirmed.NOW


def do_expire_unconfirmed_signatures(*, now: datetime | None = None) -> int:
    """Remove the signatures still pending SIGN_CONFIRM_DAYS after signing, so their
    address may sign again, and the people who came only with them (someone who
    never confirmed is someone we never met). How many signatures went."""
    before = (now or timezone.now()) - confirm_period()
    removed = 0
    while True:
        with transaction.atomic():
            rows = list(
                Signature.objects.filter(status=SignatureStatus.PENDING, created_at__lt=before)
                .order_by("created_at")
                .values_list("pk", "person_id")[:EXPIRY_BATCH]
            )
            if not rows:
                return removed
            Signature.objects.filter(
                pk__in=[pk for pk, _ in rows], status=SignatureStatus.PENDING
            ).delete()
            do_delete_people_without_purpose(
                {person_id for _, person_id in rows if person_id is not None},
                actor="expiry of unconfirmed signatures",
            )
        removed += len(rows)
