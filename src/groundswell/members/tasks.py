from __future__ import annotations

import smtplib

from django.core import signing
from django.core.exceptions import ValidationError
from django_tasks import task

from groundswell.lib.addresses import normalise_email
from groundswell.lib.retry import RetryPolicy, retry_task_later
from groundswell.members.emails import (
    EMAIL_CHANGE_CANCEL_SALT,
    EMAIL_CHANGE_SALT,
    PRIVACY_SALT,
    PROFILE_EDIT_SALT,
    RENEWAL_SALT,
    build_member_email,
)
from groundswell.members.models import Person

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


def forget_queued_emails(person: Person) -> int:
    """Delete the rows of this person's emails, waiting or sent (not those running: the
    worker would write them back): those to their address, and those carrying a
    link made for them (an address change goes to the new address)."""
    from django_tasks_db.models import DBTaskResult

    rows = DBTaskResult.objects.filter(task_path=send_member_email.module_path).exclude(
        status="RUNNING"
    )
    theirs = [
        row.pk
        for row in rows.only("pk", "args_kwargs")
        if _is_for(row.args_kwargs.get("args", []), person)
    ]
    DBTaskResult.objects.filter(pk__in=theirs).delete()
    return len(theirs)


def _is_for(args: list, person: Person) -> bool:
    if len(args) < 3:
        return False
    to, context = args[1], args[2]
    if isinstance(to, str) and _normalised(to) == person.email_normalised:
        return True
    link = context.get("link", "") if isinstance(context, dict) else ""
    signed = link.rstrip("/").rpartition("/")[2]
    for salt in (
        EMAIL_CHANGE_SALT,
        EMAIL_CHANGE_CANCEL_SALT,
        PROFILE_EDIT_SALT,
        PRIVACY_SALT,
        RENEWAL_SALT,
    ):
        try:
            # Expired or not: erasure removes the row either way.
            if signing.loads(signed, salt=salt).get("p") == person.pk:
                return True
        except signing.BadSignature:
            continue
    return False


def _normalised(address: str) -> str:
    try:
        return normalise_email(address)
    except ValidationError:
        return address
