"""The send loop: claim recipients, hand each message to SMTP, record what happened.

States of a recipient (MailingRecipient.state) and who moves them:

    queued ──claim──> claimed ──mark──> sending ──server's answer──> sent | failed
       ^                 │                 │                          └─> queued (4xx, retry later)
       └── pause/stop ───┘                 └── worker died ──> unknown

- *claimed*: taken by one worker in a batch (conditional UPDATE on SQLite,
  ``FOR UPDATE SKIP LOCKED`` on PostgreSQL), not yet handed to the mail server.
- *sending*: committed immediately before the SMTP transaction of that one message,
  in the same transaction that records the previous message's answer. A worker
  therefore has at most one recipient in *sending* at any time.
- Every later write by the worker is conditional on ``claimed_by`` = its id, so a
  recipient that pause, cancel or recovery took away is never sent by it.

Recovery (``recover_dead_workers``): a worker whose heartbeat is older than
``STALE_AFTER`` or whose process is gone on this host is dead. Its *claimed*
recipients go back to *queued* (never handed to SMTP), its one *sending* recipient
becomes *unknown*: the server may or may not have accepted it, so it is shown to
staff and never resent on its own.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
import smtplib
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from django.conf import settings
from django.core import mail
from django.db import connection, transaction
from django.db.models import Count, Min, Q
from django.utils import timezone

from .models import Mailing, MailingRecipient, MailingStatus, RecipientState, SendWorker

logger = logging.getLogger(__name__)

CLAIM_SIZE = 100
# A worker not seen for this long is taken for dead, wherever it runs.
STALE_AFTER = timedelta(seconds=60)
HEARTBEAT_EVERY = 2.0
# How often a worker re-reads the mailing's status (pause, cancel) and rate share.
STATUS_EVERY = 0.5
# Seconds before attempt 2, 3, … after a temporary failure; then the recipient fails.
RETRY_DELAYS = (60, 300, 1800, 7200)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
# After the mail server could not be reached at all, wait this long before trying again.
SERVER_DOWN_DELAY = 60

PENDING_STATES = (RecipientState.QUEUED, RecipientState.CLAIMED, RecipientState.SENDING)

_HOSTNAME = socket.gethostname()
# The raw SQL below (S608) only interpolates the table's quoted name from the model;
# every value is a query parameter.
_MESSAGE_ID = re.compile(rb"^Message-ID:\s*(<[^>\r\n]*>)", re.IGNORECASE | re.MULTILINE)


def _table() -> str:
    return connection.ops.quote_name(MailingRecipient._meta.db_table)


def _db_time(value: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


# --- SMTP -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What the mail server made of one message."""

    state: str  # sent, failed, retry, unknown
    response: str

    @property
    def server_down(self) -> bool:
        return self.state == "retry" and self.response.startswith("connection:")


def _answer(code: int, message: bytes | str) -> str:
    text = message.decode(errors="replace") if isinstance(message, bytes) else message
    return f"{code} {text}".strip()[:500]


def _by_code(code: int, message: bytes | str) -> Outcome:
    if 200 <= code < 300:
        return Outcome("sent", _answer(code, message))
    if 500 <= code < 600:
        return Outcome("failed", _answer(code, message))
    return Outcome("retry", _answer(code, message))


class Transport(Protocol):
    def send(self, sender: str, recipient: str, message: bytes) -> Outcome: ...

    def close(self) -> None: ...


class SmtpTransport:
    """One SMTP connection, opened on first use and reused for every message.

    The DATA phase is written out by hand so we know whether a broken connection
    broke before the final dot left (safe to retry) or after (the server may have
    accepted it: unknown).
    """

    def __init__(self) -> None:
        self.connection: smtplib.SMTP | None = None
        self.pipelining = False

    def _connect(self) -> smtplib.SMTP:
        cls = smtplib.SMTP_SSL if settings.EMAIL_USE_SSL else smtplib.SMTP
        conn = cls(settings.EMAIL_HOST, settings.EMAIL_PORT, timeout=settings.EMAIL_TIMEOUT)
        if conn.sock is not None:
            # Commands go out whole in one write each; do not hold them back (Nagle).
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.ehlo()
        if settings.EMAIL_USE_TLS:
            conn.starttls()
            conn.ehlo()
        if settings.EMAIL_HOST_USER:
            conn.login(settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD)
        self.pipelining = conn.has_extn("pipelining")
        return conn

    def _drop(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(OSError):
                self.connection.close()
        self.connection = None

    def _envelope(self, conn: smtplib.SMTP, sender: str, recipient: str) -> Outcome | None:
        """MAIL, RCPT and DATA; None once the server waits for the message (354).

        With PIPELINING (RFC 2920) the three commands go in one write and the three
        answers are read after: one round trip instead of three.
        """
        mail_cmd = f"MAIL FROM:{smtplib.quoteaddr(sender)}\r\n"
        rcpt_cmd = f"RCPT TO:{smtplib.quoteaddr(recipient)}\r\n"
        if self.pipelining:
            conn.send(mail_cmd + rcpt_cmd + "DATA\r\n")
            answers = [conn.getreply(), conn.getreply(), conn.getreply()]
        else:
            answers = []
            for command in (mail_cmd, rcpt_cmd, "DATA\r\n"):
                conn.send(command)
                answers.append(conn.getreply())
                if answers[-1][0] not in (250, 251, 354):
                    break
        mail_answer, rcpt_answer, data_answer = (answers + [(0, b"")] * 3)[:3]
        if data_answer[0] == 354 and (mail_answer[0] != 250 or rcpt_answer[0] not in (250, 251)):
            conn.send(".\r\n")  # a server that said 354 anyway gets an empty message
            conn.getreply()
        for code, answer in (mail_answer, rcpt_answer, data_answer):
            if code not in (250, 251, 354):
                conn.rset()
                if code == 421:
                    self._drop()
                return _by_code(code, answer)
        return None

    def send(self, sender: str, recipient: str, message: bytes) -> Outcome:
        body_sent = False
        try:
            if self.connection is None:
                self.connection = self._connect()
            conn = self.connection
            refused = self._envelope(conn, sender, recipient)
            if refused is not None:
                return refused
            data = smtplib._quote_periods(message)  # type: ignore[attr-defined]
            if not data.endswith(b"\r\n"):
                data += b"\r\n"
            conn.send(data + b".\r\n")
            body_sent = True
            code, answer = conn.getreply()
            if code == 421:
                self._drop()
            return _by_code(code, answer)
        except (OSError, smtplib.SMTPException) as error:
            self._drop()
            if body_sent:
                return Outcome("unknown", f"connection lost after the message was sent: {error}")
            return Outcome("retry", f"connection: {error}"[:500])

    def close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self.connection.quit()
        self._drop()


class DjangoBackendTransport:
    """For the in-memory and console backends (tests of other apps, the demo's console)."""

    def __init__(self) -> None:
        self.backend = mail.get_connection()

    def send(self, sender: str, recipient: str, message: bytes) -> Outcome:
        from email import message_from_bytes, policy

        parsed = message_from_bytes(message, policy=policy.SMTP)
        email = mail.EmailMessage(
            subject=str(parsed.get("Subject", "")), from_email=sender, to=[recipient]
        )
        email.message = lambda *args, **kwargs: parsed  # type: ignore[method-assign]
        self.backend.send_messages([email])
        return Outcome("sent", "250 accepted by " + type(self.backend).__name__)

    def close(self) -> None:
        pass


def make_transport() -> Transport:
    if settings.EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend":
        return SmtpTransport()
    return DjangoBackendTransport()


# --- Workers and recovery ---------------------------------------------------------------


def new_worker_id() -> str:
    return f"{_HOSTNAME[:30]}:{os.getpid()}:{secrets.token_hex(6)}"


def _process_is_gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            # A zombie has stopped; it only waits for its parent to notice.
            return stat.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except FileNotFoundError:
        return True
    except OSError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def is_dead(worker: SendWorker, now: datetime) -> bool:
    if now - worker.heartbeat_at > STALE_AFTER:
        return True
    return (
        worker.hostname == _HOSTNAME and worker.pid != os.getpid() and _process_is_gone(worker.pid)
    )


def _recover_claims(worker_id: str) -> tuple[int, int]:
    with transaction.atomic():
        requeued = MailingRecipient.objects.filter(
            claimed_by=worker_id, state=RecipientState.CLAIMED
        ).update(state=RecipientState.QUEUED, claimed_by="", claimed_at=None)
        unknown = MailingRecipient.objects.filter(
            claimed_by=worker_id, state=RecipientState.SENDING
        ).update(
            state=RecipientState.UNKNOWN,
            smtp_response="unknown: the worker stopped while handing this message to the server",
        )
        SendWorker.objects.filter(worker_id=worker_id).delete()
    if requeued or unknown:
        logger.warning(
            "Recovered dead sender %s: %d back to queued, %d unknown", worker_id, requeued, unknown
        )
    return requeued, unknown


def recover_dead_workers(mailing_id: int | None = None) -> tuple[int, int]:
    """Give back what dead workers held. Returns (requeued, unknown)."""
    now = timezone.now()
    requeued = unknown = 0
    alive: set[str] = set()
    for worker in SendWorker.objects.all():
        if is_dead(worker, now):
            r, u = _recover_claims(worker.worker_id)
            requeued += r
            unknown += u
        else:
            alive.add(worker.worker_id)
    # Claims of a worker with no heartbeat row at all (it was removed, or never written).
    mailings = Mailing.objects.filter(
        status__in=(MailingStatus.SENDING, MailingStatus.PAUSED, MailingStatus.CANCELLED)
    )
    if mailing_id is not None:
        mailings = mailings.filter(pk=mailing_id)
    for pk in mailings.values_list("pk", flat=True):
        orphans = (
            MailingRecipient.objects.filter(
                mailing_id=pk, state__in=(RecipientState.CLAIMED, RecipientState.SENDING)
            )
            .exclude(claimed_by__in=alive)
            .values_list("claimed_by", flat=True)
            .distinct()
        )
        for worker_id in list(orphans):
            if SendWorker.objects.filter(worker_id=worker_id).exists():
                continue  # registered just now by a live worker
            r, u = _recover_claims(worker_id)
            requeued += r
            unknown += u
    cancel_left_over_recipients()
    return requeued, unknown


def cancel_left_over_recipients() -> None:
    """Recipients handed back to the queue of a mailing that was cancelled meanwhile."""
    MailingRecipient.objects.filter(
        mailing__status=MailingStatus.CANCELLED,
        state__in=(RecipientState.QUEUED, RecipientState.CLAIMED),
    ).update(state=RecipientState.CANCELLED, claimed_by="")


# --- Claiming -------------------------------------------------------------------------


def claim_batch(mailing_id: int, worker_id: str, size: int = CLAIM_SIZE) -> list[int]:
    """Atomically take up to `size` ready recipients for this worker; their ids in order.

    Held-back A/B recipients (variant '') and retries not yet due are not ready.
    """
    now = _db_time(timezone.now())
    table = _table()
    ready = (
        f"SELECT id FROM {table} WHERE mailing_id = %s AND state = %s "  # noqa: S608
        f"AND variant <> '' AND (next_attempt_at IS NULL OR next_attempt_at <= %s) "
        f"ORDER BY id LIMIT %s"
    )
    if connection.vendor == "postgresql":
        # A materialised CTE: with `id IN (SELECT … LIMIT n FOR UPDATE SKIP LOCKED)` the
        # planner may run the subquery again per row and take more than n.
        sql = (
            f"WITH batch AS MATERIALIZED ({ready} FOR UPDATE SKIP LOCKED) "  # noqa: S608
            f"UPDATE {table} AS r SET state = %s, claimed_by = %s, claimed_at = %s "
            f"FROM batch WHERE r.id = batch.id RETURNING r.id"
        )
        params = [mailing_id, RecipientState.QUEUED, now, size]
        params += [RecipientState.CLAIMED, worker_id, now]
    else:
        # SQLite: writers are serialised (BEGIN IMMEDIATE); the outer state test makes
        # the UPDATE conditional all the same.
        sql = (
            f"UPDATE {table} SET state = %s, claimed_by = %s, claimed_at = %s "  # noqa: S608
            f"WHERE id IN ({ready}) AND state = %s RETURNING id"
        )
        params = [RecipientState.CLAIMED, worker_id, now]
        params += [mailing_id, RecipientState.QUEUED, now, size, RecipientState.QUEUED]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = sorted(row[0] for row in cursor.fetchall())
    return ids


def release_claims(worker_id: str) -> int:
    return MailingRecipient.objects.filter(
        claimed_by=worker_id, state=RecipientState.CLAIMED
    ).update(state=RecipientState.QUEUED, claimed_by="", claimed_at=None)


# --- Recording ------------------------------------------------------------------------


@dataclass
class Result:
    recipient_id: int
    attempts: int
    outcome: Outcome
    message_id: str = ""
    at: datetime = field(default_factory=timezone.now)


def _record_sql(result: Result, worker_id: str) -> tuple[str, list[Any]]:
    table = _table()
    outcome = result.outcome
    mine = (
        f"WHERE id = %s AND claimed_by = %s AND state IN ('{RecipientState.SENDING}', "
        f"'{RecipientState.UNKNOWN}')"
    )
    attempts = result.attempts + 1
    if outcome.state == "sent":
        return (
            f"UPDATE {table} SET state = %s, sent_at = %s, smtp_response = %s, message_id = %s, "  # noqa: S608
            f"attempts = %s {mine}",
            [
                RecipientState.SENT,
                _db_time(result.at),
                outcome.response,
                result.message_id,
                attempts,
                result.recipient_id,
                worker_id,
            ],
        )
    if outcome.state == "retry" and attempts < MAX_ATTEMPTS:
        retry_at = result.at + timedelta(seconds=RETRY_DELAYS[attempts - 1])
        return (
            f"UPDATE {table} SET state = %s, smtp_response = %s, attempts = %s, "  # noqa: S608
            f"next_attempt_at = %s, claimed_by = '', claimed_at = NULL {mine}",
            [
                RecipientState.QUEUED,
                outcome.response,
                attempts,
                _db_time(retry_at),
                result.recipient_id,
                worker_id,
            ],
        )
    state = RecipientState.UNKNOWN if outcome.state == "unknown" else RecipientState.FAILED
    return (
        f"UPDATE {table} SET state = %s, smtp_response = %s, attempts = %s {mine}",  # noqa: S608
        [state, outcome.response, attempts, result.recipient_id, worker_id],
    )


def record_and_mark(previous: Result | None, next_id: int | None, worker_id: str) -> bool:
    """One transaction: the previous message's answer, and the next recipient to *sending*.

    Returns whether the next recipient is still this worker's to send.
    """
    table = _table()
    with transaction.atomic(), connection.cursor() as cursor:
        if previous is not None:
            cursor.execute(*_record_sql(previous, worker_id))
        if next_id is None:
            return False
        cursor.execute(
            f"UPDATE {table} SET state = %s, claimed_at = %s "  # noqa: S608
            f"WHERE id = %s AND claimed_by = %s AND state = %s",
            [
                RecipientState.SENDING,
                _db_time(timezone.now()),
                next_id,
                worker_id,
                RecipientState.CLAIMED,
            ],
        )
        return cursor.rowcount == 1


# --- Rendering ------------------------------------------------------------------------


class Prepared(Protocol):
    def message_bytes(self, recipient: MailingRecipient) -> bytes: ...


_prepared: dict[tuple[int, str, str], Prepared] = {}


def prepared_mailing(mailing: Mailing) -> Prepared:
    """The rendering helper's prepared mailing, built once per worker and mailing version."""
    key = (mailing.pk, mailing.updated_at.isoformat(), mailing.ab_winner)
    found = _prepared.get(key)
    if found is None:
        from .rendering import prepare_mailing

        _prepared.clear()
        found = _prepared[key] = prepare_mailing(mailing)
    return found


def envelope_sender(mailing: Mailing) -> str:
    return getattr(settings, "MAILING_RETURN_PATH", "") or mailing.from_email


def _crlf(message: bytes) -> bytes:
    if b"\r\n" in message:
        return message
    return message.replace(b"\n", b"\r\n")


def _message_id(message: bytes) -> str:
    head = message.split(b"\r\n\r\n", 1)[0]
    match = _MESSAGE_ID.search(head)
    return match[1].decode(errors="replace")[:200] if match else ""


# --- The loop -------------------------------------------------------------------------


@dataclass
class LaneReport:
    sent: int = 0
    failed: int = 0
    retried: int = 0
    unknown: int = 0
    stopped_because: str = ""


class RateLimiter:
    """Spaces messages at `rate` per second (this worker's share of the mailing's limit)."""

    def __init__(self) -> None:
        self.rate: float | None = None
        self.next_at = time.monotonic()

    def wait(self) -> None:
        if not self.rate:
            return
        now = time.monotonic()
        if self.next_at > now:
            time.sleep(self.next_at - now)
            now = self.next_at
        # No saving up: an idle spell does not buy a burst later.
        self.next_at = max(self.next_at, now - 1.0 / self.rate) + 1.0 / self.rate


class SendLane:
    """One worker's part of one mailing's send."""

    def __init__(
        self,
        mailing_id: int,
        *,
        transport: Transport | None = None,
        progress: Callable[[LaneReport], None] | None = None,
    ) -> None:
        self.mailing_id = mailing_id
        self.worker_id = new_worker_id()
        self.transport = transport or make_transport()
        self.progress = progress
        self.report = LaneReport()
        self.limiter = RateLimiter()
        self._heartbeat_at = 0.0
        self._status_at = 0.0
        self._status = ""

    # Heartbeat and status -------------------------------------------------------

    def _register(self) -> None:
        now = timezone.now()
        SendWorker.objects.create(
            worker_id=self.worker_id,
            hostname=_HOSTNAME,
            pid=os.getpid(),
            mailing_id=self.mailing_id,
            started_at=now,
            heartbeat_at=now,
        )
        self._heartbeat_at = time.monotonic()

    def _beat(self) -> None:
        if time.monotonic() - self._heartbeat_at < HEARTBEAT_EVERY:
            return
        SendWorker.objects.filter(worker_id=self.worker_id).update(heartbeat_at=timezone.now())
        self._heartbeat_at = time.monotonic()

    def _refresh_status(self, force: bool = False) -> str:
        if force or time.monotonic() - self._status_at >= STATUS_EVERY:
            row = Mailing.objects.filter(pk=self.mailing_id).values("status", "rate_limit").first()
            self._status = row["status"] if row else ""
            limit = row["rate_limit"] if row else None
            self.limiter.rate = limit / max(1, live_lanes(self.mailing_id)) if limit else None
            self._status_at = time.monotonic()
        return self._status

    # Sending -----------------------------------------------------------------------

    def run(self, *, seconds: float | None = None) -> LaneReport:
        """Send until nothing is ready, the mailing stops, or `seconds` have passed."""
        deadline = None if seconds is None else time.monotonic() + seconds
        self._register()
        if connection.vendor == "postgresql":
            # The per-message marks are what a worker crash needs, and they are visible
            # to every other session the moment they commit. Not waiting for the WAL
            # flush only matters if the database server itself crashes: then the last
            # fraction of a second of marks can be lost (see docs/sending.md).
            with connection.cursor() as cursor:
                cursor.execute("SET synchronous_commit TO off")
        try:
            recover_dead_workers(self.mailing_id)
            while True:
                if self._refresh_status(force=True) != MailingStatus.SENDING:
                    self.report.stopped_because = f"mailing {self._status or 'deleted'}"
                    break
                if deadline is not None and time.monotonic() >= deadline:
                    self.report.stopped_because = "time slice over"
                    break
                ids = claim_batch(self.mailing_id, self.worker_id)
                if not ids:
                    self.report.stopped_because = "nothing ready"
                    break
                if not self._send_batch(ids):
                    break
                if self.progress:
                    self.progress(self.report)
        finally:
            release_claims(self.worker_id)
            self.transport.close()
            SendWorker.objects.filter(worker_id=self.worker_id).delete()
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("RESET synchronous_commit")
        return self.report

    def _send_batch(self, ids: list[int]) -> bool:
        recipients = list(
            MailingRecipient.objects.filter(pk__in=ids).select_related("person").order_by("pk")
        )
        mailing = Mailing.objects.get(pk=self.mailing_id)
        prepared = prepared_mailing(mailing)
        sender = envelope_sender(mailing)
        previous: Result | None = None
        carry_on = True
        for recipient in recipients:
            self._beat()
            if self._refresh_status() != MailingStatus.SENDING:
                self.report.stopped_because = f"mailing {self._status}"
                carry_on = False
                break
            try:
                message = _crlf(prepared.message_bytes(recipient))
            except Exception as error:  # one bad merge value must not stop the mailing
                logger.exception("Could not render mailing %s for %s", mailing.pk, recipient.pk)
                message = b""
                render_error = f"not sent: could not build the message ({error})"[:500]
            else:
                render_error = ""
            if not record_and_mark(previous, recipient.pk, self.worker_id):
                previous = None
                continue  # paused, cancelled or recovered meanwhile: no longer ours
            if render_error:
                previous = Result(recipient.pk, recipient.attempts, Outcome("failed", render_error))
                self.report.failed += 1
                continue
            self.limiter.wait()
            outcome = self.transport.send(sender, recipient.email, message)
            previous = Result(recipient.pk, recipient.attempts, outcome, _message_id(message))
            if outcome.state == "sent":
                self.report.sent += 1
            elif outcome.state == "failed":
                self.report.failed += 1
            elif outcome.state == "unknown":
                self.report.unknown += 1
            else:
                self.report.retried += 1
            if outcome.server_down:
                self.report.stopped_because = "mail server unreachable"
                carry_on = False
                break
        record_and_mark(previous, None, self.worker_id)
        return carry_on


# --- Queries for tasks, CLI and progress ------------------------------------------------


def has_ready_recipients(mailing_id: int) -> bool:
    return (
        MailingRecipient.objects.filter(
            Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=timezone.now()),
            mailing_id=mailing_id,
            state=RecipientState.QUEUED,
        )
        .exclude(variant="")
        .exists()
    )


def next_retry_at(mailing_id: int) -> datetime | None:
    return (
        MailingRecipient.objects.filter(
            mailing_id=mailing_id, state=RecipientState.QUEUED, next_attempt_at__isnull=False
        )
        .exclude(variant="")
        .aggregate(at=Min("next_attempt_at"))["at"]
    )


def live_lanes(mailing_id: int) -> int:
    fresh = timezone.now() - STALE_AFTER
    return SendWorker.objects.filter(mailing_id=mailing_id, heartbeat_at__gte=fresh).count()


def sent_count() -> Count:
    """Annotation for a Mailing queryset: its recipients sent so far (one query for a list)."""
    return Count("recipients", filter=Q(recipients__state=RecipientState.SENT))


def state_counts(mailing_id: int) -> dict[str, int]:
    counts = {state.value: 0 for state in RecipientState}
    for row in (
        MailingRecipient.objects.filter(mailing_id=mailing_id)
        .values("state")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        counts[row["state"]] = row["n"]
    return counts


def progress(mailing: Mailing) -> dict[str, Any]:
    """What the staff page's progress bar shows."""
    counts = state_counts(mailing.pk)
    minute_ago = timezone.now() - timedelta(seconds=60)
    last_minute = MailingRecipient.objects.filter(
        mailing_id=mailing.pk, sent_at__gte=minute_ago
    ).count()
    held = 0
    if mailing.subject_b and not mailing.ab_winner:
        held = MailingRecipient.objects.filter(
            mailing_id=mailing.pk, state=RecipientState.QUEUED, variant=""
        ).count()
    return {
        "id": mailing.pk,
        "status": mailing.status,
        "total": mailing.recipient_count,
        "sent": counts[RecipientState.SENT],
        "failed": counts[RecipientState.FAILED],
        "unknown": counts[RecipientState.UNKNOWN],
        "cancelled": counts[RecipientState.CANCELLED],
        "waiting": counts[RecipientState.QUEUED]
        + counts[RecipientState.CLAIMED]
        + counts[RecipientState.SENDING],
        "held_for_ab": held,
        "ab_winner": mailing.ab_winner,
        "ab_decide_at": mailing.ab_decide_at.isoformat() if mailing.ab_decide_at else None,
        "rate": round(last_minute / 60, 1),
        "started_at": mailing.started_at.isoformat() if mailing.started_at else None,
        "finished_at": mailing.finished_at.isoformat() if mailing.finished_at else None,
    }


def pending_count(mailing_id: int, states: Iterable[str] = PENDING_STATES) -> int:
    return MailingRecipient.objects.filter(mailing_id=mailing_id, state__in=list(states)).count()
