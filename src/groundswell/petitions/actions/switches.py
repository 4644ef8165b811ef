"""The signing kill switch: one petition, or every petition, stops taking signatures
(and starts again), each change in the audit log."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from groundswell.members.actions.audit import record_audit
from groundswell.members.models import AuditAction
from groundswell.petitions.models import Petition


def do_switch_signing(petitions: Iterable[Petition], *, on: bool, actor: str) -> list[Petition]:
    """Switch signing off (or on again) for these petitions; returns those that
    changed. The signature writer reads the switch inside its transaction, so a form
    loaded before the switch signs nothing after it."""
    changed = []
    with transaction.atomic():
        ids = [p.pk for p in petitions]
        for petition in Petition.objects.select_for_update().filter(pk__in=ids).order_by("pk"):
            if petition.signing_off == (not on):
                continue
            petition.signing_off = not on
            # updated_at is part of the public page's cache key: the page shows it at once.
            petition.save(update_fields=["signing_off", "updated_at"])
            record_audit(
                AuditAction.SIGNING_SWITCHED_ON if on else AuditAction.SIGNING_SWITCHED_OFF,
                actor,
                details={"petition": petition.pk, "slug": petition.slug},
                organisation=petition.lead_sponsor_id(),
            )
            changed.append(petition)
    return changed
