from __future__ import annotations

import smtplib

from django_tasks import task

from groundswell.lib.retry import RetryPolicy, retry_task_later
from groundswell.members.emails import build_member_email

# Seconds to wait before attempt 2, 3, …; after the last, the email is given up.
RETRY = RetryPolicy(delays=(30, 60, 120, 240, 480))


@task()
def send_member_email(kind: str, to: str, context: dict[str, str], attempt: int = 1) -> None:
    """Send one transactional email; when the mail server is down, try again later."""
    try:
        build_member_email(kind, to, context).send()
    except (smtplib.SMTPException, OSError) as error:
        what = f"The {kind} email ({error})"
        if retry_task_later(send_member_email, RETRY, attempt, (kind, to, context), what=what):
            return
        raise
