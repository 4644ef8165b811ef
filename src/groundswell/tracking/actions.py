"""Tracking's writes that happen inside a request (clicks and opens go through buffer.py)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from groundswell.lib.tokens import read_member_token
from groundswell.mailings.models import MailingRecipient
from groundswell.members.models import Person


def do_attribute_unsubscribe(person: Person, token: str) -> bool:
    """Mark the person's copy of the mailing their unsubscribe link came from.

    Only the first unsubscribe counts: unsubscribing twice from the same email keeps
    the first time. A token not from a mailing (mailing id 0) changes nothing.
    """
    member = read_member_token(token)
    if member is None or member.mailing_id == 0 or member.person_id != person.pk:
        return False
    with transaction.atomic():
        updated = MailingRecipient.objects.filter(
            mailing_id=member.mailing_id, person=person, unsubscribed_at__isnull=True
        ).update(unsubscribed_at=timezone.now())
    return updated > 0
