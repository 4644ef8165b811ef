"""A petition written and changed by staff: its text, settings and sponsors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction

from groundswell.members.actions.audit import record_audit
from groundswell.members.models import AuditAction
from groundswell.orgs.models import Organisation
from groundswell.petitions.models import Petition, PetitionSponsor

# What staff may set from the editor (status changes go through lifecycle.py).
EDITABLE_FIELDS = (
    "slug",
    "title",
    "target",
    "statement",
    "background",
    "goal",
    "auto_raise_goal",
    "consent_mode",
    "require_postal_code",
    "require_country",
    "thank_you_text",
    "share_text",
    "sign_limits",
    "sign_min_seconds",
    "proof_of_work",
    "confirm_by_email",
)


def _set_sponsors(petition: Petition, sponsors: Sequence[Organisation]) -> None:
    """The sponsors in page order (the first leads), replacing those there were."""
    wanted = [org.pk for org in sponsors]
    PetitionSponsor.objects.filter(petition=petition).exclude(organisation_id__in=wanted).delete()
    existing = {s.organisation_id: s for s in PetitionSponsor.objects.filter(petition=petition)}
    for position, org_id in enumerate(wanted):
        sponsorship = existing.get(org_id)
        if sponsorship is None:
            PetitionSponsor.objects.create(
                petition=petition, organisation_id=org_id, position=position
            )
        elif sponsorship.position != position:
            sponsorship.position = position
            sponsorship.save(update_fields=["position"])


def do_create_petition(
    actor: str, values: dict[str, Any], sponsors: Sequence[Organisation]
) -> Petition:
    """A new draft: nobody can see or sign it until it is opened."""
    if not sponsors:
        raise ValueError("A petition needs at least one sponsor.")
    with transaction.atomic():
        petition = Petition.objects.create(
            **{k: v for k, v in values.items() if k in EDITABLE_FIELDS}
        )
        _set_sponsors(petition, sponsors)
        record_audit(
            AuditAction.PETITION_CREATED,
            actor,
            details={"petition": petition.pk, "slug": petition.slug},
            organisation=sponsors[0],
        )
        return petition


def do_update_petition(
    actor: str, petition: Petition, values: dict[str, Any], sponsors: Sequence[Organisation]
) -> Petition:
    """Change the text, settings and sponsors; the audit entry names what changed."""
    if not sponsors:
        raise ValueError("A petition needs at least one sponsor.")
    with transaction.atomic():
        petition = Petition.objects.select_for_update().get(pk=petition.pk)
        changed = [
            field
            for field in EDITABLE_FIELDS
            if field in values and getattr(petition, field) != values[field]
        ]
        for field in changed:
            setattr(petition, field, values[field])
        before = list(
            petition.sponsorships.order_by("position").values_list("organisation_id", flat=True)
        )
        if before != [org.pk for org in sponsors]:
            changed.append("sponsors")
        if changed:
            petition.save()
            _set_sponsors(petition, sponsors)
            record_audit(
                AuditAction.PETITION_EDITED,
                actor,
                details={"petition": petition.pk, "slug": petition.slug, "changed": changed},
                organisation=sponsors[0],
            )
        return petition
