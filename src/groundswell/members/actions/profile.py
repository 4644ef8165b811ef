"""A person's own details and address: changed from their profile link or by staff; a
new address that someone else holds merges the two."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from groundswell.lib.addresses import normalise_email
from groundswell.lib.tokens import email_hash
from groundswell.members import privacy
from groundswell.members.actions.audit import record_audit
from groundswell.members.emails import (
    email_change_cancel_link,
    email_change_link,
    profile_edit_link,
)
from groundswell.members.models import (
    AuditAction,
    AuditEntry,
    Person,
    Subscription,
)
from groundswell.members.tasks import send_member_email


@dataclass(frozen=True)
class OwnProfileChange:
    changed: list[str]
    # A link to confirm the new address went to it (and a notice to the old one).
    email_change_requested: bool


# No copy of a person's data goes to an address this new: whoever took over an
# address from a forwarded link cannot take the data with it at once.
EXPORT_WAIT_AFTER_EMAIL_CHANGE = timedelta(days=14)


def do_request_profile_link(person: Person) -> None:
    """Email the address on file a link to change the person's details (a member link
    only recognises: it travels in forwarded emails and on shared computers)."""
    with transaction.atomic():
        link = profile_edit_link(person)
        context = {"first_name": person.first_name or _("friend"), "link": link}
        to = person.email
        transaction.on_commit(lambda: send_member_email.enqueue("profile-edit", to, context))


def do_update_own_profile(
    person: Person, changes: dict[str, str], *, new_email: str = "", actor: str = "self"
) -> OwnProfileChange:
    """The person changes their details from the link sent to their address. A new
    address takes effect once its owner confirms it (do_change_email), and the old
    address is told, with a link to cancel. Saving uses up the link (person_stamp)."""
    with transaction.atomic():
        person = Person.objects.select_for_update().get(pk=person.pk)
        changed = do_update_profile(person, changes, actor=actor)
        if not changed:
            person.save(update_fields=["updated_at"])
        requested = bool(new_email) and normalise_email(new_email) != person.email_normalised
        if requested:
            context = {"first_name": person.first_name or _("friend")}
            link = email_change_link(person, new_email)
            old_email = person.email
            cancel = email_change_cancel_link(person.pk, old_email, new_email)

            def send() -> None:
                send_member_email.enqueue(
                    "email-change-confirm", new_email, {**context, "link": link}
                )
                send_member_email.enqueue(
                    "email-change-notice", old_email, {**context, "link": cancel}
                )

            transaction.on_commit(send)
        return OwnProfileChange(changed=changed, email_change_requested=requested)


def do_confirm_email_change(person: Person, new_email: str) -> Person:
    """The new address confirmed: use it, and tell the old one how to undo it."""
    with transaction.atomic():
        old_email = person.email
        person = do_change_email(person, new_email, actor="self")
        context = {
            "first_name": person.first_name or _("friend"),
            "link": email_change_cancel_link(person.pk, old_email, new_email),
        }
        transaction.on_commit(
            lambda: send_member_email.enqueue("email-change-done", old_email, context)
        )
        return person


def do_cancel_email_change(person: Person, old_email: str, new_email: str) -> bool:
    """From the old address: undo the change, confirmed or not. A change still waiting
    for confirmation dies (its link carries the person's stamp, which this changes).
    False when the person has moved on to a third address since."""
    with transaction.atomic():
        person = Person.objects.select_for_update().get(pk=person.pk)
        current = person.email_normalised
        if current == normalise_email(new_email):
            do_change_email(person, old_email, actor="self:cancelled-change")
            return True
        if current == normalise_email(old_email):
            person.save(update_fields=["updated_at"])
            record_audit(
                AuditAction.EMAIL_CHANGE_CANCELLED,
                "self",
                person=person,
                details={"new_email_hash": email_hash(normalise_email(new_email))},
            )
            return True
        return False


def email_changed_recently(person: Person) -> datetime | None:
    """When the person's address last changed, if within EXPORT_WAIT_AFTER_EMAIL_CHANGE."""
    since = timezone.now() - EXPORT_WAIT_AFTER_EMAIL_CHANGE
    return (
        AuditEntry.objects.filter(
            person=person, action=AuditAction.EMAIL_CHANGED, created_at__gte=since
        )
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )


PROFILE_FIELDS = ("first_name", "last_name", "address", "postal_code", "country")


def do_update_profile(person: Person, changes: dict[str, str], *, actor: str) -> list[str]:
    """Change the person's own details (not the email: see do_change_email)."""
    with transaction.atomic():
        changed = []
        for field in PROFILE_FIELDS:
            if field not in changes:
                continue
            value = changes[field].strip()
            if field == "country":
                value = value.upper()
            if getattr(person, field) != value:
                setattr(person, field, value)
                changed.append(field)
        if changed:
            person.save(update_fields=[*changed, "updated_at"])
            record_audit(
                AuditAction.PROFILE_UPDATED, actor, person=person, details={"fields": changed}
            )
        return changed


def do_change_email(person: Person, new_email: str, *, actor: str) -> Person:
    """Give the person a new address, confirmed by its owner beforehand.

    If someone else already has that address, the two are the same person: the
    other's subscriptions, consent history and signatures move here and both
    histories are kept.
    """
    normalised = normalise_email(new_email)
    with transaction.atomic():
        person = Person.objects.select_for_update().get(pk=person.pk)
        old_normalised = person.email_normalised
        if normalised == old_normalised:
            person.email = new_email.strip()
            person.save(update_fields=["email", "updated_at"])
            return person
        other = Person.objects.select_for_update().filter(email_normalised=normalised).first()
        merged: dict[str, int] = {}
        if other is not None:
            merged = _merge_into(person, other)
        person.email = new_email.strip()
        person.email_normalised = normalised
        person.save(update_fields=["email", "email_normalised", "updated_at"])
        record_audit(
            AuditAction.EMAIL_CHANGED,
            actor,
            person=person,
            details={"old_email_hash": email_hash(old_normalised), "merged": merged},
        )
        return person


def _merge_into(keep: Person, other: Person) -> dict[str, int]:
    """Move everything `other` has onto `keep`, then remove `other`."""
    moved = {"subscriptions": 0}
    for subscription in other.subscriptions.select_related("mailing_list"):
        mine = keep.subscriptions.filter(mailing_list=subscription.mailing_list).first()
        if mine is None:
            subscription.person = keep
            subscription.save(update_fields=["person", "updated_at"])
        else:
            # One subscription per list: its history is both histories, and its status
            # is whichever event happened last.
            subscription.events.update(subscription=mine)
            latest = mine.events.order_by("-created_at", "-id").first()
            if latest is not None and mine.status != latest.kind:
                mine.status = latest.kind
                mine.save(update_fields=["status", "updated_at"])
            Subscription.objects.filter(pk=subscription.pk).delete()
        moved["subscriptions"] += 1
    # Signatures and whatever else other apps keep per person (members/privacy.py).
    moved |= privacy.merge_everywhere(keep, other)
    other.audit_entries.update(person=keep)
    Person.objects.filter(pk=other.pk).delete()
    return moved
