"""Complaint rate per mailing, and telling staff when it passes the limit.

Gmail and Yahoo ask bulk senders to stay under 0.1% of messages marked as spam and
never reach 0.3%; above that, mail starts going to spam folders for everyone.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import mail_admins, send_mail
from django.db import IntegrityError, transaction
from django.db.models import Count, Q

from groundswell.mailings.models import Mailing, RecipientState

logger = logging.getLogger(__name__)

ALARMING_COMPLAINT_RATE = 0.001

# A copy handed to the mail server: sent, or left unknown by a worker that stopped
# mid-send (it may well have gone out).
WAS_SENT = Q(sent_at__isnull=False) | Q(state__in=[RecipientState.SENT, RecipientState.UNKNOWN])


def complaint_rate(mailing: Mailing) -> float:
    """Complaints per message sent (0.0 when nothing was sent yet)."""
    counts = mailing.recipients.aggregate(
        sent=Count("id", filter=WAS_SENT),
        complained=Count("id", filter=Q(complained_at__isnull=False)),
    )
    if not counts["sent"]:
        return 0.0
    return float(counts["complained"]) / float(counts["sent"])


def is_complaint_rate_alarming(mailing: Mailing) -> bool:
    return complaint_rate(mailing) > ALARMING_COMPLAINT_RATE


def warn_if_complaint_rate_alarming(mailing: Mailing) -> bool:
    """Log and email staff the first time this mailing passes the limit. True if it did."""
    from groundswell.bounces.models import ComplaintAlert

    rate = complaint_rate(mailing)
    if rate <= ALARMING_COMPLAINT_RATE:
        return False
    try:
        with transaction.atomic():
            ComplaintAlert.objects.create(mailing=mailing, rate=rate)
    except IntegrityError:
        return False  # already told
    subject = f"Complaint rate {rate:.2%} on mailing “{mailing.subject}”"
    body = (
        f"{rate:.2%} of the people sent the mailing “{mailing.subject}” (id {mailing.pk}) "
        "have marked it as spam. Mail providers start filtering a sender above 0.1% and "
        "block it near 0.3%.\n\n"
        "Consider pausing the mailing and checking who it went to and whether they "
        "expect mail from you.\n"
    )
    logger.warning("%s (mailing %s)", subject, mailing.pk)
    recipients = [mailing.organisation.sender_email, mailing.from_email]
    send_mail(
        subject,
        body,
        settings.DEFAULT_FROM_EMAIL,
        sorted({address for address in recipients if address}),
        fail_silently=True,
    )
    mail_admins(subject, body, fail_silently=True)
    return True
