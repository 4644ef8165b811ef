"""What a bounce or complaint changes, whichever way it reached us.

DSN/ARF messages (dsn.py, the process_bounce(s) commands) and provider webhooks
(receivers.py) all end here. Subscriptions change through members.actions.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from groundswell.bounces.complaints import WAS_SENT, warn_if_complaint_rate_alarming
from groundswell.bounces.dsn import Report, ReportKind, read_reports
from groundswell.bounces.models import BounceEvent, BounceKind
from groundswell.lib.addresses import normalise_email
from groundswell.mailings.models import MailingRecipient
from groundswell.members.actions.consent import (
    do_mark_bounced,
    do_mark_complained,
    do_unsubscribe_everywhere,
    do_unsubscribe_from_link,
)
from groundswell.members.models import Person

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    kind: BounceKind
    # What the report was matched to: "recipient" (the Message-ID we sent),
    # "person" (the address alone), or "" (nobody we know: recorded only).
    matched: str
    event: BounceEvent


def find_recipient(message_ids: tuple[str, ...] | list[str]) -> MailingRecipient | None:
    """Our copy of a mailing with one of these Message-IDs, with or without <>."""
    candidates: set[str] = set()
    for message_id in message_ids:
        bare = message_id.strip().strip("<>").strip()
        if bare:
            candidates |= {bare, f"<{bare}>"}
    if not candidates:
        return None
    return (
        MailingRecipient.objects.select_related("mailing", "person")
        .filter(message_id__in=candidates)
        .first()
    )


def find_mailed_person(address: str) -> Person | None:
    """The person with this address, if we have actually sent them a mailing.

    Used when a report does not carry our Message-ID. Anyone can send a bounce to
    our bounce address; requiring that we mailed the person limits what a forged
    one can do to people we are already mailing.
    """
    try:
        normalised = normalise_email(address)
    except ValidationError:  # an address too broken to normalise matches nobody
        return None
    person = Person.objects.filter(email_normalised=normalised).first()
    if person is None:
        return None
    was_mailed = MailingRecipient.objects.filter(WAS_SENT, person=person).exists()
    return person if was_mailed else None


def _stamp_once(recipient: MailingRecipient | None, field: str) -> bool:
    """Set the copy's `field` to now unless it is already set; True when it was set now."""
    if recipient is None or getattr(recipient, field) is not None:
        return False
    setattr(recipient, field, timezone.now())
    recipient.save(update_fields=[field])
    return True


def do_record_report(
    kind: BounceKind,
    *,
    source: str,
    message_ids: tuple[str, ...] | list[str] = (),
    address: str = "",
    status: str = "",
    detail: str = "",
) -> Outcome:
    """Record a bounce, complaint or provider unsubscribe and act on it.

    Hard bounce: the copy is marked bounced and the person leaves every list as
    bounced. Complaint: the copy is marked complained, the person leaves every list
    as complained and is suppressed; staff hear if the mailing's complaint rate
    passes the limit. Provider unsubscribe: unsubscribed everywhere. Soft bounce:
    recorded, nothing else changes. Repeats of the same report change nothing more.
    """
    with transaction.atomic():
        recipient = find_recipient(message_ids)
        person = recipient.person if recipient is not None else find_mailed_person(address)
        matched = "recipient" if recipient is not None else ("person" if person else "")
        if recipient is not None:
            # Lock the row: two reports of the same copy must not both count.
            recipient = MailingRecipient.objects.select_for_update().get(pk=recipient.pk)
        event = BounceEvent.objects.create(
            kind=kind,
            source=source[:100],
            recipient=recipient,
            person=person,
            status=status[:20],
            detail=detail[:500],
        )
        if kind == BounceKind.HARD:
            _stamp_once(recipient, "bounced_at")
            if person is not None:
                do_mark_bounced(person, source=source)
        elif kind == BounceKind.COMPLAINT:
            newly_complained = _stamp_once(recipient, "complained_at")
            if person is not None:
                do_mark_complained(person, source=source)
            if recipient is not None and newly_complained:
                mailing = recipient.mailing
                transaction.on_commit(lambda: warn_if_complaint_rate_alarming(mailing))
        elif kind == BounceKind.UNSUBSCRIBE:
            _stamp_once(recipient, "unsubscribed_at")
            if person is not None and recipient is not None:
                # The provider's unsubscribe is the email's one-click: its lists only.
                do_unsubscribe_from_link(person, mailing_id=recipient.mailing_id, source=source)
            elif person is not None:
                do_unsubscribe_everywhere(person, source=source)
        logger.info(
            "%s from %s: matched %s (event %s)", kind, source, matched or "nobody", event.pk
        )
        return Outcome(kind, matched, event)


REPORT_KINDS = {
    ReportKind.HARD: BounceKind.HARD,
    ReportKind.SOFT: BounceKind.SOFT,
    ReportKind.COMPLAINT: BounceKind.COMPLAINT,
}


def do_process_report_message(raw: bytes) -> list[Outcome]:
    """Read one message from the bounce mailbox and act on every report in it.

    A message that is not a report (an auto-reply, spam, a broken message) is
    ignored and gives an empty list.
    """
    outcomes = []
    for report in read_reports(raw):
        outcomes.append(_record(report))
    return outcomes


def _record(report: Report) -> Outcome:
    source = "arf" if report.kind == ReportKind.COMPLAINT else "dsn"
    return do_record_report(
        REPORT_KINDS[report.kind],
        source=source,
        message_ids=report.message_ids,
        address=report.address,
        status=report.status,
        detail=report.detail,
    )
