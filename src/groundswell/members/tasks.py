from __future__ import annotations

import logging
import smtplib
from datetime import timedelta

from django.utils import timezone
from django_tasks import task

from groundswell.members.emails import build_member_email

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 6


@task()
def send_member_email(kind: str, to: str, context: dict[str, str], attempt: int = 1) -> None:
    """Send one transactional email; when the mail server is down, try again later."""
    try:
        build_member_email(kind, to, context).send()
    except (smtplib.SMTPException, OSError) as error:
        if attempt >= MAX_ATTEMPTS:
            log.error("Giving up on %s email after %d attempts: %s", kind, attempt, error)
            raise
        delay = timedelta(seconds=30 * 2 ** (attempt - 1))
        log.warning("Could not send %s email (%s); retrying in %s", kind, error, delay)
        send_member_email.using(run_after=timezone.now() + delay).enqueue(
            kind, to, context, attempt + 1
        )
