"""A person's privacy rights: a link to their data, its copy (export) and its erasure.
Each app's share of both is registered in members/privacy.py."""

from __future__ import annotations

from django.db import transaction
from django.utils import formats, timezone

from groundswell.lib.tokens import email_hash
from groundswell.members import privacy
from groundswell.members.actions.audit import record_audit
from groundswell.members.actions.profile import (
    EXPORT_WAIT_AFTER_EMAIL_CHANGE,
    email_changed_recently,
)
from groundswell.members.actions.suppression import do_suppress
from groundswell.members.emails import privacy_link
from groundswell.members.models import (
    AuditAction,
    Person,
    Subscription,
    SuppressionReason,
)
from groundswell.members.tasks import forget_queued_emails, send_member_email


def do_request_privacy_link(normalised_email: str, kind: str) -> None:
    """Email the person with this address a link to their data's copy or erasure
    (`kind` "export" or "erase"). Nothing happens for an address we do not know."""
    with transaction.atomic():
        person = Person.objects.filter(email_normalised=normalised_email).first()
        if person is None:
            return
        to = person.email
        changed = email_changed_recently(person) if kind == "export" else None
        if changed is not None:
            # The address may have been taken over from a forwarded link: no data yet.
            after = changed + EXPORT_WAIT_AFTER_EMAIL_CHANGE
            context = {"after": formats.date_format(timezone.localtime(after), "j F Y")}
            transaction.on_commit(
                lambda: send_member_email.enqueue("privacy-export-wait", to, context)
            )
            return
        link = privacy_link(person.pk, kind)
        transaction.on_commit(
            lambda: send_member_email.enqueue(f"privacy-{kind}", to, {"link": link})
        )


def do_erase_person(person: Person, *, actor: str) -> None:
    """Remove the person's personal data and keep only what the counts and the
    "never contact me" promise need: anonymous signatures and a keyed hash.

    Every app that keeps rows about people forgets its own (members/privacy.py), in
    this transaction."""
    with transaction.atomic():
        person = Person.objects.select_for_update().get(pk=person.pk)
        normalised = person.email_normalised
        forgotten = privacy.forget_everywhere(person)
        forget_queued_emails(person)
        # Consent history is personal data (IP addresses) and goes with the person; the
        # suppression below is what now proves they must not be mailed.
        Subscription.objects.filter(person=person).delete()
        do_suppress(normalised, reason=SuppressionReason.ERASED, source=f"erasure:{actor}")
        person.audit_entries.update(person=None)
        record_audit(AuditAction.ERASED, actor, details=forgotten, subject=email_hash(normalised))
        Person.objects.filter(pk=person.pk).delete()


def export_person(person: Person) -> dict[str, object]:
    """Everything we hold about the person, for a copy of their data: their profile and
    subscriptions here, then each other app's sections (members/privacy.py)."""
    subscriptions = person.subscriptions.select_related("mailing_list__organisation").order_by(
        "created_at"
    )
    data: dict[str, object] = {
        "profile": {
            "email": person.email,
            "first_name": person.first_name,
            "last_name": person.last_name,
            "address": person.address,
            "postal_code": person.postal_code,
            "country": person.country,
            "first_source": person.source,
            "created_at": person.created_at.isoformat(),
        },
        "subscriptions": [
            {
                "organisation": s.mailing_list.organisation.name,
                "list": s.mailing_list.name,
                "status": s.status,
                "history": [
                    {
                        "event": e.kind,
                        "at": e.created_at.isoformat(),
                        "source": e.source,
                        "ip_address": e.ip_address,
                        "wording": e.wording,
                    }
                    for e in s.events.all()
                ],
            }
            for s in subscriptions
        ],
    }
    return data | privacy.export_sections(person)


def export_rows(data: dict[str, object]) -> list[list[str]]:
    """The same export flattened for a spreadsheet: section, item, field, value."""
    rows = [["section", "item", "field", "value"]]
    profile = data["profile"]
    assert isinstance(profile, dict)
    rows += [["profile", "", key, str(value)] for key, value in profile.items()]
    for section, items in data.items():
        if section == "profile":
            continue
        assert isinstance(items, list)
        for number, item in enumerate(items, start=1):
            for key, value in item.items():
                if key == "history":
                    for step, event in enumerate(value, start=1):
                        rows += [
                            [section, str(number), f"history {step} {k}", str(v or "")]
                            for k, v in event.items()
                        ]
                else:
                    rows.append([section, str(number), key, str(value)])
    return rows


def do_record_export(person: Person, *, actor: str) -> dict[str, object]:
    data = export_person(person)
    record_audit(AuditAction.EXPORTED, actor, person=person)
    return data
