"""Unsubscribes from a mailing's link: the copy the link came from is marked."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from groundswell.members.mail_sources import EmailSource
from groundswell.members.models import Person

from ..models import Mailing, MailingRecipient


def email_source(mailing_id: int) -> EmailSource | None:
    """Registered with members (apps.py): the organisation and lists a mailing went to,
    which its unsubscribe link acts on."""
    mailing = Mailing.objects.filter(pk=mailing_id).only("pk", "organisation_id").first()
    if mailing is None:
        return None
    return EmailSource(
        organisation_id=mailing.organisation_id,
        list_ids=frozenset(mailing.include_lists.values_list("pk", flat=True)),
    )


def mark_recipient_unsubscribed(sender: Any, *, person: Person, mailing_id: int, **_: Any) -> None:
    """Receiver of members' person_unsubscribed (connected in apps.py), inside the
    unsubscribe's transaction: mark the copy of the mailing the link came from.

    Only the first unsubscribe counts: unsubscribing twice from the same email keeps the
    first time. A link not from a mailing (mailing id 0) changes nothing.
    """
    if not mailing_id:
        return
    MailingRecipient.objects.filter(
        mailing_id=mailing_id, person=person, unsubscribed_at__isnull=True
    ).update(unsubscribed_at=timezone.now())
