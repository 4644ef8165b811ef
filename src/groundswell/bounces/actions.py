"""What a bounce or complaint changes, whichever way it reached us.

DSN/ARF messages (dsn.py, the process_bounce(s) commands) and provider webhooks
(receivers.py) all end here. Subscriptions change through members.actions.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from groundswell.bounces.complaints import warn_if_complaint_rate_alarming
from groundswell.bounces.dsn import Report, ReportKind, read_reports
from groundswell.bounces.models import BounceEvent, BounceKind
from groundswell.mailings.models import MailingRecipient
from groundswell.members.actions.consent import (
    do_mark_bounced,
    do_mark_complained,
    do_unsubscribe_from_link,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    kind: BounceKind
    # What the report was matched to: "recipient" (the Message-ID we sent) or ""
    # (no message of ours: recorded only).
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
    passes the limit. Provider unsubscribe: off the lists that email went to. Soft
    bounce: recorded, nothing else changes. Repeats of the same report change nothing
    more. A report matching none of our Message-IDs is recorded and changes nothing,
    whatever `address` it names (kept only in the log).
    """
    with transaction.atomic():
        # Only the copy the report answers, found by the Message-ID we made for it (it
        # carries 64 random bits): anyone can write to the bounce address, and a report
        # naming addresses alone could take any member off every list.
        recipient = find_recipient(message_ids)
        person = recipient.person if recipient is not None else None
        matched = "recipient" if recipient is not None else ""
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
        logger.info(
            "%s from %s: matched %s (event %s)%s",
            kind,
            source,
            matched or "nobody",
            event.pk,
            " (an address alone is not enough)" if address and not matched else "",
        )
        return Outcome(kind, matched, event)


REPORT_KINDS = {
    ReportKind.HARD: BounceKind.HARD,
    ReportKind.SOFT: BounceKind.SOFT,
    ReportKind.COMPLAINT: BounceKind.COMPLAINT,
}


# Each copy we send has one recipient, so a real report about it names one address;
# a few more are read (a relay may list the forwarded-to addresses too), never
# thousands from one forged message.
MAX_REPORTS_PER_MESSAGE = 5


def do_process_report_message(raw: bytes) -> list[Outcome]:
    """Read one message from the bounce mailbox and act on the reports in it: at
    most MAX_REPORTS_PER_MESSAGE, and only on the copy whose Message-ID it carries.

    A message that is not a report (an auto-reply, spam, a broken message) is
    ignored and gives an empty list.
    """
    outcomes = []
    for report in read_reports(raw)[:MAX_REPORTS_PER_MESSAGE]:
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
