"""A petition's status, changed by staff: opened, closed, or taken back to a draft."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from groundswell.members.actions.audit import record_audit
from groundswell.members.models import AuditAction
from groundswell.petitions.models import (
    Petition,
    PetitionStatus,
)


def _change_status(
    petition: Petition, status: PetitionStatus, action: AuditAction, *, actor: str
) -> Petition:
    with transaction.atomic():
        petition = Petition.objects.select_for_update().get(pk=petition.pk)
        if petition.status == status:
            return petition
        previous = petition.status
        now = timezone.now()
        petition.status = status
        # The first opening and the latest closing are kept for reports.
        if status == PetitionStatus.OPEN and petition.opened_at is None:
            petition.opened_at = now
        if status == PetitionStatus.CLOSED:
            petition.closed_at = now
        petition.save(update_fields=["status", "opened_at", "closed_at", "updated_at"])
        record_audit(
            action,
            actor,
            details={"petition": petition.pk, "slug": petition.slug, "was": previous},
            organisation=petition.lead_sponsor_id(),
        )
    return petition


def do_open_petition(petition: Petition, *, actor: str) -> Petition:
    """Take signatures from now on. Opening an open petition changes nothing."""
    return _change_status(petition, PetitionStatus.OPEN, AuditAction.PETITION_OPENED, actor=actor)


def do_close_petition(petition: Petition, *, actor: str) -> Petition:
    """Take no more signatures. Closing a closed petition changes nothing."""
    return _change_status(petition, PetitionStatus.CLOSED, AuditAction.PETITION_CLOSED, actor=actor)


def do_draft_petition(petition: Petition, *, actor: str) -> Petition:
    """Take the petition back to a draft: its page stops taking signatures."""
    return _change_status(petition, PetitionStatus.DRAFT, AuditAction.PETITION_DRAFTED, actor=actor)
