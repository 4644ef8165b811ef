"""The audit log: one entry per change to a person that matters."""

from __future__ import annotations

from django.db import transaction

from groundswell.lib.clients import acting_address
from groundswell.lib.tokens import email_hash
from groundswell.members.models import (
    AuditAction,
    AuditEntry,
    Person,
)
from groundswell.orgs.models import Organisation


def record_audit(
    action: AuditAction,
    actor: str,
    *,
    details: dict | None = None,
    person: Person | None = None,
    subject: str = "",
    organisation: Organisation | int | None = None,
    ip_address: str | None = None,
) -> AuditEntry:
    """One audit entry, written in the caller's transaction. `subject` is the person's
    email hash, found from `person` when not given. An entry not about a person (a mailing
    paused) has neither: its details name the object. `organisation` is the one the action
    was for (an owner sees its entries) and `ip_address` where the actor was: by default
    the address of the staff page running, if one is (lib.clients.acting_from)."""
    return AuditEntry.objects.create(
        action=action,
        actor=actor,
        person=person,
        subject_hash=subject or (email_hash(person.email_normalised) if person else ""),
        details=details or {},
        organisation_id=organisation.pk if isinstance(organisation, Organisation) else organisation,
        ip_address=ip_address or acting_address(),
    )


def do_record_staff_export(
    action: AuditAction,
    actor: str,
    *,
    organisation: Organisation | int | None,
    details: dict,
) -> AuditEntry:
    """An export of people's data by staff, recorded before the file is written."""
    with transaction.atomic():
        return record_audit(action, actor, organisation=organisation, details=details)
