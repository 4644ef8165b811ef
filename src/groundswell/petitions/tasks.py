"""Background work for petitions: the thank-you email, retried while SMTP is down."""

from __future__ import annotations

import logging
import smtplib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta
from typing import TYPE_CHECKING, NamedTuple

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task
from django_tasks_db import DatabaseBackend
from django_tasks_db.models import DBTaskResult, get_date_max

from groundswell.lib.addresses import mail_address
from groundswell.lib.db import insert_all
from groundswell.lib.emails import render_plain_text
from groundswell.lib.periodic import keep_queued
from groundswell.lib.retry import RetryPolicy, retry_task_later
from groundswell.lib.stopping import tasks_should_stop
from groundswell.lib.tokens import email_hashes
from groundswell.members.models import Suppression
from groundswell.petitions.confirmations import confirmation_url
from groundswell.petitions.models import Signature, SignatureConfirmation, SignatureStatus
from groundswell.petitions.referrals import make_referral_code
from groundswell.petitions.tally.refresh import TALLY_EVERY, petitions_to_refresh, refresh

if TYPE_CHECKING:
    from groundswell.members.models import Person
    from groundswell.orgs.models import Organisation

logger = logging.getLogger(__name__)

# Seconds to wait before attempt 2, 3, …; after the last, the email is given up.
RETRY = RetryPolicy(delays=(60, 300, 1800, 7200, 21600))


class Envelope(NamedTuple):
    """Who an email to a signer comes from and goes to."""

    sponsor: Organisation | None  # the petition's lead sponsor, who signs the email
    signer: Person
    from_email: str
    to: list[str]


def sender_and_recipient(signature: Signature) -> Envelope:
    """Emails to a signer come from their petition's lead sponsor (DEFAULT_FROM_EMAIL
    when it has none) and go to the signer's address."""
    person = signature.person
    if person is None:
        raise ValueError("An anonymised signature has no one to write to.")
    sponsor = signature.petition.sponsors.order_by(
        "sponsorships__position", "sponsorships__id"
    ).first()
    sender = (
        f"{sponsor.sender_name} <{sponsor.sender_email}>"
        if sponsor
        else settings.DEFAULT_FROM_EMAIL
    )
    return Envelope(
        sponsor=sponsor, signer=person, from_email=sender, to=[mail_address(person.email)]
    )


def thank_you_message(signature: Signature) -> EmailMessage:
    petition = signature.petition
    envelope = sender_and_recipient(signature)
    person = envelope.signer
    share_url = (
        f"{settings.BASE_URL}{petition.get_absolute_url()}"
        f"?ref={make_referral_code(person.pk)}&source=email-share"
    )
    body = render_plain_text(
        "petitions/email/thank-you.txt",
        {
            "petition": petition,
            "person": person,
            "share_url": share_url,
            "page_url": f"{settings.BASE_URL}{petition.get_absolute_url()}",
            "sponsor": envelope.sponsor,
        },
    )
    return EmailMessage(
        subject=_("Thank you for signing: %(title)s") % {"title": petition.title},
        body=body,
        from_email=envelope.from_email,
        to=envelope.to,
        headers={"Auto-Submitted": "auto-generated"},
    )


@task()
def send_thank_you_email(signature_id: int, attempt: int = 1) -> str:
    """Send once; when the mail server fails, try again later with a growing delay.

    django-tasks has no retries of its own, so a failed attempt enqueues the next
    one with run_after, then fails itself so the error stays visible in the results.
    """
    try:
        return _thank(signature_id, connection=None)
    except (OSError, smtplib.SMTPException):
        _schedule_retry(signature_id, attempt)
        raise


@task()
def send_thank_you_emails(signature_ids: list[int]) -> str:
    """The first attempt for signatures written together: one task, and one SMTP
    connection, for all of them. Each that fails is retried on its own
    (send_thank_you_email, attempt 2 on); should any fail, so does this task, once the
    others are sent, so the error stays visible."""
    outcomes: Counter[str] = Counter()
    failed: list[Exception] = []
    connection = get_connection()
    try:
        connection.open()
    except (OSError, smtplib.SMTPException) as error:
        for signature_id in signature_ids:
            _schedule_retry(signature_id, 1)
        raise ThankYouFailed(
            f"the mail server did not answer ({error!r}); all {len(signature_ids)} are "
            "retried later"
        ) from error
    try:
        for index, signature_id in enumerate(signature_ids):
            if tasks_should_stop():
                # Its worker is stopping: another one sends the rest.
                send_thank_you_emails.enqueue(signature_ids[index:])
                outcomes["handed back"] += len(signature_ids) - index
                break
            try:
                outcomes[_thank(signature_id, connection=connection)] += 1
            except (OSError, smtplib.SMTPException) as error:
                _schedule_retry(signature_id, 1)
                failed.append(error)
                # The connection may be what failed: each next message opens its own.
                connection.close()
    finally:
        connection.close()
    summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(outcomes.items()))
    if failed:
        raise ThankYouFailed(
            f"{len(failed)} of {len(signature_ids)} failed ({failed[0]!r}), each retried "
            f"later; {summary or 'none sent'}"
        )
    return summary


class ThankYouFailed(Exception):
    """Some thank-you emails of a batch failed (and are retried on their own)."""


def _thank(signature_id: int, *, connection: BaseEmailBackend | None) -> str:
    signature = (
        Signature.objects.select_related("petition", "person").filter(pk=signature_id).first()
    )
    if signature is None or signature.status != SignatureStatus.VALID:
        return "no such signature"
    if signature.thanked_at is not None:
        return "already sent"
    # Marked thanked only once sent (below), so that a failed send is retried.
    left_out: Counter[str] = Counter()
    if next(emailable([signature], left_out), None) is None:
        [why] = left_out
        return why
    message = thank_you_message(signature)
    message.connection = connection
    message.send()
    # Imported here: the actions enqueue this task.
    from groundswell.petitions.actions.thanks import do_mark_thanked

    do_mark_thanked(signature_id)
    return "sent"


def emailable(
    signatures: Iterable[Signature],
    left_out: Counter[str],
    claim: Callable[[int], bool] | None = None,
) -> Iterator[Signature]:
    """The signatures whose signers may have an email from us now: not erased, their
    address not suppressed, under THANK_YOU_EMAILS_PER_DAY, and, given `claim`, claimed
    with it just before it is yielded (so of two workers one sends). Each one left out is
    counted in `left_out`, under why: "signer erased", "suppressed", "daily limit
    reached" or "sent lately" (not claimed)."""
    for signature in signatures:
        person = signature.person
        if person is None:
            left_out["signer erased"] += 1
        elif Suppression.objects.filter(
            email_hash__in=email_hashes(person.email_normalised)
        ).exists():
            left_out["suppressed"] += 1
        elif had_enough_today(person.pk):
            left_out["daily limit reached"] += 1
        elif claim is not None and not claim(signature.pk):
            left_out["sent lately"] += 1
        else:
            yield signature


def had_enough_today(person_id: int) -> bool:
    """Whether this address had THANK_YOU_EMAILS_PER_DAY thank-yous and notes in the
    last 24 hours, whatever the petitions: someone typing another's address into many
    petitions' forms cannot fill their inbox (docs/security.md). Each signature's
    thanked_at is when its last email went; a pending signature's confirmation emails
    count the same way (emailed_at)."""
    since = timezone.now() - timedelta(days=1)
    limit = settings.THANK_YOU_EMAILS_PER_DAY
    recent = Signature.objects.filter(person_id=person_id, thanked_at__gte=since)
    sent = len(recent.values_list("pk", flat=True)[:limit])
    if sent >= limit:
        return True
    asked = SignatureConfirmation.objects.filter(
        signature__person_id=person_id, emailed_at__gte=since
    )
    return sent + len(asked.values_list("pk", flat=True)[: limit - sent]) >= limit


def already_signed_message(signature: Signature) -> EmailMessage:
    """To a signer whose address was used to sign the same petition again: the page
    says the same to everyone, so only the owner of the address learns it."""
    envelope = sender_and_recipient(signature)
    return EmailMessage(
        subject=_("You had already signed: %(title)s") % {"title": signature.petition.title},
        body=render_plain_text(
            "petitions/email/already-signed.txt",
            {
                "petition": signature.petition,
                "person": signature.person,
                "page_url": f"{settings.BASE_URL}{signature.petition.get_absolute_url()}",
            },
        ),
        from_email=envelope.from_email,
        to=envelope.to,
        headers={"Auto-Submitted": "auto-generated"},
    )


@task()
def send_already_signed_notes(signature_ids: list[int]) -> str:
    """Tell each signer once (a day at most) that their address signed again; never
    retried."""
    from groundswell.petitions.actions.thanks import do_claim_already_signed_note

    signatures = Signature.objects.select_related("petition", "person").filter(
        pk__in=signature_ids, status=SignatureStatus.VALID, person__isnull=False
    )
    sent = 0
    for signature in emailable(signatures, Counter(), claim=do_claim_already_signed_note):
        already_signed_message(signature).send()
        sent += 1
    return f"{sent} sent"


def confirmation_message(signature: Signature) -> EmailMultiAlternatives:
    """The email whose link opens the page with the button that confirms a pending
    signature: plain text and HTML, from the lead sponsor like the thank-you."""
    envelope = sender_and_recipient(signature)
    context = {
        "petition": signature.petition,
        "person": signature.person,
        "confirm_url": confirmation_url(signature),
        "days": settings.SIGN_CONFIRM_DAYS,
        "page_url": f"{settings.BASE_URL}{signature.petition.get_absolute_url()}",
    }
    message = EmailMultiAlternatives(
        subject=_("Please confirm your signature: %(title)s") % {"title": signature.petition.title},
        body=render_plain_text("petitions/email/confirm-email.txt", context),
        from_email=envelope.from_email,
        to=envelope.to,
        headers={"Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(
        render_to_string("petitions/email/confirm-email.html", context), "text/html"
    )
    return message


@task()
def send_confirmation_emails(signature_ids: list[int]) -> str:
    """Ask each pending signature's signer to confirm it, within the limits of
    actions/confirming.py and THANK_YOU_EMAILS_PER_DAY. Not retried: the signer who
    got nothing signs again, which sends it again."""
    from groundswell.petitions.actions.thanks import do_claim_confirmation_email

    signatures = Signature.objects.select_related("petition", "person").filter(
        pk__in=signature_ids, status=SignatureStatus.PENDING, person__isnull=False
    )
    outcomes: Counter[str] = Counter()
    for signature in emailable(signatures, outcomes, claim=do_claim_confirmation_email):
        confirmation_message(signature).send()
        outcomes["sent"] += 1
    return ", ".join(f"{n} {outcome}" for outcome, n in sorted(outcomes.items())) or "none"


def enqueue_confirmation_emails(signature_ids: list[int]) -> None:
    """After the commit, as the notes are: a confirmation lost to a crash is sent
    again when its signer signs again."""
    if signature_ids:
        ids = list(signature_ids)
        transaction.on_commit(lambda: send_confirmation_emails.enqueue(ids))


def enqueue_already_signed_notes(signature_ids: list[int]) -> None:
    """After the commit: a repeat is rare, and its note may be lost to a crash."""
    if signature_ids:
        ids = list(signature_ids)
        transaction.on_commit(lambda: send_already_signed_notes.enqueue(ids))


def _schedule_retry(signature_id: int, attempt: int) -> None:
    what = f"Thank-you email for signature {signature_id}"
    retry_task_later(send_thank_you_email, RETRY, attempt, (signature_id,), what=what)


def enqueue_thank_yous(signature_ids: list[int]) -> None:
    """Queue the thank-you emails of signatures written together: one
    send_thank_you_emails task for all of them, existing exactly when they do.

    The database backend's queue is a table in this database: the task's row is
    written in the signers' transaction and commits (or rolls back) with the
    signatures; no thank-you is lost to a crash between the commit and the enqueue.
    The row is the one DatabaseBackend.enqueue writes (tests/petitions/
    test_thank_you_email.py runs it through a real worker), written by insert_all to
    spare the ORM's work while the write lock is held. Any other backend runs or ships
    the task at once (the immediate one in tests), so it must wait for the commit.
    """
    if not signature_ids:
        return
    task_ = send_thank_you_emails
    backend = task_.get_backend()
    if not isinstance(backend, DatabaseBackend):
        transaction.on_commit(lambda: task_.enqueue(list(signature_ids)))
        return
    insert_all(
        [
            DBTaskResult(
                args_kwargs={"args": [list(signature_ids)], "kwargs": {}},
                priority=task_.priority,
                task_path=task_.module_path,
                queue_name=task_.queue_name,
                run_after=task_.run_after or get_date_max(),
                backend_name=backend.alias,
            )
        ]
    )


@task()
def refresh_tallies() -> int:
    """Bring every petition's dashboard tallies up to now, then again in TALLY_EVERY
    (one such task waits in the queue). Returns how many petitions were refreshed."""
    try:
        due = petitions_to_refresh()
        for petition_id in due:
            refresh(petition_id)
        return len(due)
    finally:
        keep_queued(refresh_tallies, TALLY_EVERY)
