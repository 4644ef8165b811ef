"""News on a petition's page, posted by staff."""

from __future__ import annotations

from django.db import transaction

from groundswell.members.actions.audit import record_audit
from groundswell.members.models import AuditAction
from groundswell.petitions.models import Petition, PetitionUpdate


def do_post_update(actor: str, petition: Petition, *, title: str, body: str) -> PetitionUpdate:
    """Post an update on the page. The petition's updated_at moves with it, so the
    cached page is drawn again with the update."""
    if not title.strip() or not body.strip():
        raise ValueError("An update needs a title and some words.")
    with transaction.atomic():
        update = PetitionUpdate.objects.create(
            petition=petition, title=title.strip(), body=body.strip(), posted_by=actor
        )
        petition.save(update_fields=["updated_at"])
        record_audit(
            AuditAction.PETITION_UPDATE_POSTED,
            actor,
            details={"petition": petition.pk, "slug": petition.slug, "update": update.pk},
            organisation=petition.lead_sponsor_id(),
        )
        return update
