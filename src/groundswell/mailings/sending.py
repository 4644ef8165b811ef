"""The send loop: claim recipients, hand each message to SMTP, record what happened.

States of a recipient (MailingRecipient.state) and who moves them:

    queued ──claim──> claimed ──mark window──> sending ──answer──> sent | failed
       ^                 │                        │                 └─> queued (4xx, retry later)
       └── pause/stop ───┘<── stop: not started ──┤
                                                  └── worker died ──> replayed from its journal

- *claimed*: taken by one worker in a batch (conditional UPDATE on SQLite,
  ``FOR UPDATE SKIP LOCKED`` on PostgreSQL), not yet handed to the mail server.
- *sending*: a window of up to WINDOW claimed recipients, marked in one commit (which
  also records the answers so far). Before each message's body goes out the worker
  appends "started <id>" to its journal (journal.py), and "answer <id> …" once the
  server answered; the answers reach the database in bulk, every WINDOW messages or
  FLUSH_EVERY seconds. A worker that stops hands its window's unstarted rest back.
- Every later write by the worker is conditional on ``claimed_by`` = its id and the
  state it expects, so a recipient that pause, cancel or recovery took away is never
  sent by it.

Recovery (``recover_dead_workers``). On this host, a worker is dead once its journal's
lock is free (the kernel drops it with the process); elsewhere, when its heartbeat is
older than STALE_AFTER. Its *claimed* recipients go back to *queued*. Its *sending*
ones follow its journal: answered → that answer; started, not answered → *unknown*
(the server may or may not have it: shown to staff, never resent on its own); not
started → *queued*. Without a readable journal (another host, another boot) all of
them become *unknown*: at most one window.
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
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from django.conf import settings
from django.core import mail
from django.db import connection, transaction
from django.db.models import Count, Min, Q
from django.utils import timezone

from groundswell.lib.retry import RetryPolicy

from . import journal
from .models import Mailing, MailingRecipient, MailingStatus, RecipientState, SendWorker

logger = logging.getLogger(__name__)

CLAIM_SIZE = 100
# Recipients marked *sending* in one commit. It bounds what becomes unknown when a
# worker dies out of reach of its journal (another host).
WINDOW = 50
# Answers wait at most this long (or until the window is done) before they are committed.
FLUSH_EVERY = 0.5
# A worker not seen for this long is taken for dead, wherever it runs.
STALE_AFTER = timedelta(seconds=60)
HEARTBEAT_EVERY = 2.0
# How often a worker re-reads the mailing's status (pause, cancel) and rate share.
STATUS_EVERY = 0.5
# Seconds before attempt 2, 3, … after a temporary failure; then the recipient fails.
RETRY = RetryPolicy(delays=(60, 300, 1800, 7200))
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
    def send(
        self, sender: str, recipient: str, message: bytes, next_recipient: str | None = None
    ) -> Outcome:
        """Hand one message over. `next_recipient`: the address the next call will most
        likely send to (same sender), which a transport may announce early."""
        ...

    def close(self) -> None: ...


# A plain address needs none of the parsing smtplib.quoteaddr does for every message.
_PLAIN_ADDRESS = re.compile(r"[^\s<>()\[\],;:\\\"@]+@[^\s<>()\[\],;:\\\"@]+")


def _smtp_address(address: str) -> str:
    if _PLAIN_ADDRESS.fullmatch(address):
        return f"<{address}>"
    return smtplib.quoteaddr(address)


def _quote_periods(message: bytes) -> bytes:
    """Dot-stuffing (RFC 5321 4.5.2), searched for before it is done."""
    if message.startswith(b".") or b"\n." in message:
        return smtplib._quote_periods(message)  # type: ignore[attr-defined]
    return message


class SmtpTransport:
    """One SMTP connection, opened on first use and reused for every message.

    The DATA phase is written out by hand so we know whether a broken connection
    broke before the final dot left (safe to retry) or after (the server may have
    accepted it: unknown).

    With PIPELINING (RFC 2920), MAIL, RCPT and DATA go in one write, and the next
    message's MAIL, RCPT and DATA go in the same write as this message's body: one round
    trip per message. The next envelope commits the server to nothing (no body, no
    message); if that next message is not sent after all, the connection is dropped
    rather than the body ended, so the server abandons it.
    """

    def __init__(self) -> None:
        self.connection: smtplib.SMTP | None = None
        self.pipelining = False
        # (sender, recipient) whose MAIL/RCPT/DATA went out, answers not read yet.
        self.announced: tuple[str, str] | None = None

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
        self.announced = None

    @staticmethod
    def _envelope_commands(sender: str, recipient: str) -> list[str]:
        return [
            f"MAIL FROM:{_smtp_address(sender)}\r\n",
            f"RCPT TO:{_smtp_address(recipient)}\r\n",
            "DATA\r\n",
        ]

    def _envelope(self, conn: smtplib.SMTP, sender: str, recipient: str) -> Outcome | None:
        """MAIL, RCPT and DATA; None once the server waits for the message (354)."""
        commands = self._envelope_commands(sender, recipient)
        if self.pipelining:
            conn.send("".join(commands))
            answers = [conn.getreply(), conn.getreply(), conn.getreply()]
        else:
            answers = []
            for command in commands:
                conn.send(command)
                answers.append(conn.getreply())
                if answers[-1][0] not in (250, 251, 354):
                    break
        return self._envelope_answered(conn, answers)

    def _envelope_answered(
        self, conn: smtplib.SMTP, answers: list[tuple[int, bytes]]
    ) -> Outcome | None:
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

    def send(
        self, sender: str, recipient: str, message: bytes, next_recipient: str | None = None
    ) -> Outcome:
        body_sent = False
        try:
            if self.announced is not None and self.announced != (sender, recipient):
                self._drop()  # announced someone else: the server abandons that envelope
            if self.connection is None:
                self.connection = self._connect()
            conn = self.connection
            if self.announced is not None:
                self.announced = None
                refused = self._envelope_answered(
                    conn, [conn.getreply(), conn.getreply(), conn.getreply()]
                )
            else:
                refused = self._envelope(conn, sender, recipient)
            if refused is not None:
                return refused
            data = _quote_periods(message)
            if not data.endswith(b"\r\n"):
                data += b"\r\n"
            data += b".\r\n"
            if next_recipient is not None and self.pipelining:
                data += "".join(self._envelope_commands(sender, next_recipient)).encode()
                self.announced = (sender, next_recipient)
            conn.send(data)
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
        if self.connection is not None and self.announced is None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self.connection.quit()
        # With an envelope announced the server waits for a body: QUIT would be read as
        # part of it. Closing the connection makes it abandon that message.
        self._drop()


class DjangoBackendTransport:
    """For the in-memory and console backends (tests of other apps, the demo's console)."""

    def __init__(self) -> None:
        self.backend = mail.get_connection()

    def send(
        self, sender: str, recipient: str, message: bytes, next_recipient: str | None = None
    ) -> Outcome:
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


def register_worker(mailing_id: int) -> str:
    """A SendWorker row for this process, working on the mailing; returns its worker id."""
    now = timezone.now()
    worker_id = new_worker_id()
    SendWorker.objects.create(
        worker_id=worker_id,
        hostname=_HOSTNAME,
        pid=os.getpid(),
        mailing_id=mailing_id,
        started_at=now,
        heartbeat_at=now,
    )
    return worker_id


def beat(worker_id: str) -> bool:
    """The worker is alive; False if its row is gone (recovery took it for dead)."""
    return bool(SendWorker.objects.filter(worker_id=worker_id).update(heartbeat_at=timezone.now()))


def _on_this_host(worker_id: str) -> bool:
    return worker_id.split(":", 1)[0] == _HOSTNAME[:30]


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


def looks_dead(worker: SendWorker, now: datetime) -> bool:
    """Heartbeat too old, or (same host) its process is gone. On this host the journal's
    lock has the last word: see recover_dead_workers."""
    if now - worker.heartbeat_at > STALE_AFTER:
        return True
    return (
        worker.hostname == _HOSTNAME and worker.pid != os.getpid() and _process_is_gone(worker.pid)
    )


@dataclass
class Recovered:
    requeued: int = 0
    unknown: int = 0
    answered: int = 0

    def add(self, other: Recovered) -> None:
        self.requeued += other.requeued
        self.unknown += other.unknown
        self.answered += other.answered


UNKNOWN_IN_FLIGHT = "unknown: the worker stopped while handing this message to the server"
UNKNOWN_NO_JOURNAL = (
    "unknown: the worker stopped with this message in its window and its journal "
    "could not be read (another host, or lost)"
)


def _recover_claims(worker_id: str, replay: journal.Replay | None) -> Recovered:
    """Give back what one dead worker held, in one transaction.

    With its journal (`replay`): answered → the server's answer; started without an
    answer → unknown; never started → queued. Without it, every recipient it had in
    *sending* (at most one window) becomes unknown. Its *claimed* ones were never
    started: queued.
    """
    done = Recovered()
    mine = MailingRecipient.objects.filter(claimed_by=worker_id)
    with transaction.atomic():
        done.requeued = mine.filter(state=RecipientState.CLAIMED).update(
            state=RecipientState.QUEUED, claimed_by="", claimed_at=None
        )
        in_flight = list(mine.filter(state=RecipientState.SENDING).values_list("pk", "attempts"))
        if replay is None:
            unknown = [pk for pk, _attempts in in_flight]
            never: list[int] = []
            answered: list[Result] = []
        else:
            answered = [
                Result.from_answer(pk, attempts, replay.answers[pk])
                for pk, attempts in in_flight
                if pk in replay.answers
            ]
            unknown = [
                pk for pk, _a in in_flight if pk in replay.started and pk not in replay.answers
            ]
            never = [
                pk for pk, _a in in_flight if pk not in replay.started and pk not in replay.answers
            ]
        write_results(answered, worker_id)
        mine.filter(pk__in=unknown, state=RecipientState.SENDING).update(
            state=RecipientState.UNKNOWN,
            smtp_response=UNKNOWN_IN_FLIGHT if replay is not None else UNKNOWN_NO_JOURNAL,
        )
        done.requeued += mine.filter(pk__in=never, state=RecipientState.SENDING).update(
            state=RecipientState.QUEUED, claimed_by="", claimed_at=None
        )
        SendWorker.objects.filter(worker_id=worker_id).delete()
    done.unknown = len(unknown) + sum(r.outcome.state == "unknown" for r in answered)
    done.answered = len(answered)
    if done.requeued or done.unknown or done.answered:
        logger.warning(
            "Recovered dead sender %s (%s): %d answers from its journal, %d back to queued, "
            "%d unknown",
            worker_id,
            "journal replayed" if replay is not None else "no journal",
            done.answered,
            done.requeued,
            done.unknown,
        )
    return done


def _recover_if_dead(worker_id: str, *, seems_dead: bool) -> Recovered | None:
    """Recover the worker if it is dead; None if it is alive."""
    if not _on_this_host(worker_id):
        # Its journal is on another machine: out of reach.
        return _recover_claims(worker_id, None) if seems_dead else None
    found = journal.take(worker_id)
    if found == journal.LIVE:
        return None  # its process holds the lock, so it runs, whatever its heartbeat says
    if found == journal.MISSING:
        # No journal: the lane had not opened one yet (so had nothing in *sending*), or
        # it was lost. Its heartbeat and process decide.
        return _recover_claims(worker_id, None) if seems_dead else None
    assert isinstance(found, journal.DeadJournal)
    return _replay(worker_id, found)


def _replay(worker_id: str, found: journal.DeadJournal) -> Recovered:
    """Recover by the dead worker's journal, then remove it (kept if recovery failed)."""
    try:
        done = _recover_claims(worker_id, found.replay())
    except BaseException:
        found.release()  # replayed by the next recovery
        raise
    found.discard()
    return done


def recover_dead_workers(mailing_id: int | None = None) -> tuple[int, int]:
    """Give back what dead workers held. Returns (requeued, unknown)."""
    now = timezone.now()
    total = Recovered()
    alive: set[str] = set()
    for worker in SendWorker.objects.all():
        done = _recover_if_dead(worker.worker_id, seems_dead=looks_dead(worker, now))
        if done is None:
            alive.add(worker.worker_id)
        else:
            total.add(done)
    # Journals left on this host by lanes with no row any more (killed before it was
    # written, or recovered by a process that died before removing the file).
    for worker_id, found in journal.leftovers():
        total.add(_replay(worker_id, found))
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
            done = _recover_if_dead(worker_id, seems_dead=True)
            if done is not None:
                total.add(done)
    cancel_left_over_recipients()
    return total.requeued, total.unknown


def cancel_left_over_recipients(mailing_id: int | None = None) -> None:
    """Recipients handed back to the queue of a mailing that was cancelled meanwhile."""
    left = MailingRecipient.objects.filter(
        mailing__status=MailingStatus.CANCELLED,
        state__in=(RecipientState.QUEUED, RecipientState.CLAIMED),
    )
    if mailing_id is not None:
        left = left.filter(mailing_id=mailing_id)
    left.update(state=RecipientState.CANCELLED, claimed_by="")


# --- Claiming and marking ---------------------------------------------------------------


def claim_batch(mailing_id: int, worker_id: str, size: int = CLAIM_SIZE) -> list[int]:
    """Atomically take up to `size` ready recipients for this worker; their ids in order.

    Only while the mailing is *sending* (not preparing, paused, …). Held-back A/B
    recipients (variant '') and retries not yet due are not ready.
    """
    now = _db_time(timezone.now())
    table = _table()
    mailings = connection.ops.quote_name(Mailing._meta.db_table)
    ready = (
        f"SELECT id FROM {table} WHERE mailing_id = %s AND state = %s "  # noqa: S608
        f"AND variant <> '' AND (next_attempt_at IS NULL OR next_attempt_at <= %s) "
        f"AND EXISTS (SELECT 1 FROM {mailings} WHERE id = %s AND status = %s) "
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
        params = [mailing_id, RecipientState.QUEUED, now, mailing_id, MailingStatus.SENDING, size]
        params += [RecipientState.CLAIMED, worker_id, now]
    else:
        # SQLite: writers are serialised (BEGIN IMMEDIATE); the outer state test makes
        # the UPDATE conditional all the same.
        sql = (
            f"UPDATE {table} SET state = %s, claimed_by = %s, claimed_at = %s "  # noqa: S608
            f"WHERE id IN ({ready}) AND state = %s RETURNING id"
        )
        params = [RecipientState.CLAIMED, worker_id, now]
        params += [mailing_id, RecipientState.QUEUED, now, mailing_id, MailingStatus.SENDING]
        params += [size, RecipientState.QUEUED]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = sorted(row[0] for row in cursor.fetchall())
    return ids


def mark_window(ids: list[int], worker_id: str) -> set[int]:
    """Claimed → sending for those of `ids` that are still this worker's; returns them.

    Call inside the transaction that commits the mark. A recipient that pause, cancel or
    recovery took back since the claim is no longer *claimed* by this worker: it stays
    out, and the worker never sends it.
    """
    if not ids:
        return set()
    marks = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_table()} SET state = %s, claimed_at = %s "  # noqa: S608
            f"WHERE id IN ({marks}) AND claimed_by = %s AND state = %s RETURNING id",
            [
                RecipientState.SENDING,
                _db_time(timezone.now()),
                *ids,
                worker_id,
                RecipientState.CLAIMED,
            ],
        )
        return {row[0] for row in cursor.fetchall()}


def give_back(ids: list[int], worker_id: str) -> int:
    """Recipients this worker marked *sending* but never started: back to the queue."""
    if not ids:
        return 0
    # *unknown* too: recovery from another host may have given up on them, but only this
    # worker could have started them, and it did not.
    return MailingRecipient.objects.filter(
        pk__in=ids,
        claimed_by=worker_id,
        state__in=(RecipientState.SENDING, RecipientState.UNKNOWN),
    ).update(state=RecipientState.QUEUED, claimed_by="", claimed_at=None)


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

    @classmethod
    def from_answer(cls, recipient_id: int, attempts: int, answer: journal.Answer) -> Result:
        return cls(
            recipient_id,
            attempts,
            Outcome(answer.state, answer.response),
            answer.message_id,
            datetime.fromtimestamp(answer.at, tz=UTC),
        )


def _record_sql(result: Result, worker_id: str) -> tuple[str, list[Any]]:
    """One recipient's answer, written only while it is still this worker's to record."""
    table = _table()
    outcome = result.outcome
    # *unknown* too: recovery from another host may have given up on a message this
    # worker, alive after all, did hand over; its answer then corrects the row.
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
    retry_at = RETRY.retry_at(attempts, result.at) if outcome.state == "retry" else None
    if retry_at is not None:
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


def write_results(results: list[Result], worker_id: str) -> None:
    """Many answers at once: one executemany per kind of answer (call inside a transaction)."""
    by_sql: dict[str, list[list[Any]]] = {}
    for result in results:
        sql, params = _record_sql(result, worker_id)
        by_sql.setdefault(sql, []).append(params)
    with connection.cursor() as cursor:
        for sql, rows in by_sql.items():
            cursor.executemany(sql, rows)


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
    return str(settings.MAILING_RETURN_PATH) or mailing.from_email


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

    def count(self, outcome: Outcome) -> None:
        if outcome.state == "sent":
            self.sent += 1
        elif outcome.state == "failed":
            self.failed += 1
        elif outcome.state == "unknown":
            self.unknown += 1
        else:
            self.retried += 1


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


class TakenForDead(Exception):
    """Recovery gave this lane's recipients away: it must not start another message."""


class SendLane:
    """One worker's part of one mailing's send.

    Per window of claimed recipients: one commit records the answers so far and marks
    the window *sending*; then each message is journalled (started, answered) and handed
    over; answers reach the database in the next commit, at the latest FLUSH_EVERY later.
    """

    def __init__(
        self,
        mailing_id: int,
        *,
        transport: Transport | None = None,
        progress: Callable[[LaneReport], None] | None = None,
    ) -> None:
        self.mailing_id = mailing_id
        self.worker_id = ""
        self.transport = transport or make_transport()
        self.progress = progress
        self.report = LaneReport()
        self.limiter = RateLimiter()
        self.journal: journal.Journal | None = None
        # Answered since the last commit (in the journal, not yet in the database).
        self.unrecorded: list[Result] = []
        # Marked *sending* by the last commit, not handed over yet.
        self.window: list[int] = []
        self._flushed_at = 0.0
        self._heartbeat_at = 0.0
        self._status_at = 0.0
        self._status = ""

    # Heartbeat and status -------------------------------------------------------

    def _register(self) -> None:
        self.worker_id = register_worker(self.mailing_id)
        self._heartbeat_at = time.monotonic()

    def _refresh_status(self, force: bool = False) -> str:
        if force or time.monotonic() - self._status_at >= STATUS_EVERY:
            row = Mailing.objects.filter(pk=self.mailing_id).values("status", "rate_limit").first()
            self._status = row["status"] if row else ""
            limit = row["rate_limit"] if row else None
            self.limiter.rate = limit / max(1, live_lanes(self.mailing_id)) if limit else None
            self._status_at = time.monotonic()
        return self._status

    # Committing -----------------------------------------------------------------

    def _commit(self, mark: list[int] | None = None, *, stopping: bool = False) -> None:
        """One transaction: the answers so far, the heartbeat when due, and either the
        next window marked *sending* (`mark`: self.window becomes those still this
        worker's, in order) or, when `stopping`, the window's unstarted rest given back.
        """
        marked: set[int] = set()
        with transaction.atomic():
            write_results(self.unrecorded, self.worker_id)
            if stopping:
                give_back(self.window, self.worker_id)
            if time.monotonic() - self._heartbeat_at >= HEARTBEAT_EVERY:
                if not beat(self.worker_id):
                    mark = None
                    self.report.stopped_because = "taken for dead"
                self._heartbeat_at = time.monotonic()
            if mark:
                marked = mark_window(mark, self.worker_id)
        self.unrecorded = []
        if mark is not None or stopping:
            self.window = [pk for pk in mark or () if pk in marked]
        self._flushed_at = time.monotonic()
        if self.journal is not None:
            self.journal.checkpoint()
        if self.report.stopped_because == "taken for dead":
            raise TakenForDead(self.worker_id)

    def _stop(self) -> None:
        """Record what is answered and hand back what is not started."""
        if self.unrecorded or self.window:
            self._commit(stopping=True)
        release_claims(self.worker_id)
        cancel_left_over_recipients(self.mailing_id)

    # Sending -----------------------------------------------------------------------

    def run(self, *, seconds: float | None = None) -> LaneReport:
        """Send until nothing is ready, the mailing stops, or `seconds` have passed."""
        deadline = None if seconds is None else time.monotonic() + seconds
        self._register()
        clean = False
        try:
            self.journal = journal.Journal(self.worker_id)
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
            self._stop()
            clean = True
        except TakenForDead:
            logger.error("Sender %s was taken for dead and stopped", self.worker_id)
            self._stop()
            clean = True
        finally:
            self.transport.close()
            if self.journal is not None:
                if clean:
                    self.journal.remove()
                else:
                    # Answers may be only in the journal: leave it to recovery.
                    self.journal.close()
            if clean or self.journal is None:
                SendWorker.objects.filter(worker_id=self.worker_id).delete()
        return self.report

    def _send_batch(self, ids: list[int]) -> bool:
        recipients = {
            r.pk: r for r in MailingRecipient.objects.filter(pk__in=ids).select_related("person")
        }
        mailing = Mailing.objects.get(pk=self.mailing_id)
        prepared = prepared_mailing(mailing)
        sender = envelope_sender(mailing)
        for start in range(0, len(ids), WINDOW):
            # Read afresh before each window: a pause stops the lane at a window's end at
            # the latest, and within one after STATUS_EVERY.
            if self._refresh_status(force=True) != MailingStatus.SENDING:
                self.report.stopped_because = f"mailing {self._status}"
                return False
            self._commit(mark=ids[start : start + WINDOW])
            while self.window:
                if self._refresh_status() != MailingStatus.SENDING:
                    self.report.stopped_because = f"mailing {self._status}"
                    return False
                recipient = recipients[self.window[0]]
                # Who comes next, for the transport to announce in the same write; not
                # under a rate limit, where the server would wait out the gap mid-envelope.
                following = None
                if len(self.window) > 1 and not self.limiter.rate:
                    following = recipients[self.window[1]].email
                result = self._send_one(recipient, prepared, sender, following)
                self.window.pop(0)
                self.unrecorded.append(result)
                self.report.count(result.outcome)
                if result.outcome.server_down:
                    self.report.stopped_because = "mail server unreachable"
                    return False
                if time.monotonic() - self._flushed_at >= FLUSH_EVERY:
                    self._commit()
        return True

    def _send_one(
        self,
        recipient: MailingRecipient,
        prepared: Prepared,
        sender: str,
        following: str | None = None,
    ) -> Result:
        assert self.journal is not None
        try:
            message = _crlf(prepared.message_bytes(recipient))
        except Exception as error:  # one bad merge value must not stop the mailing
            logger.exception("Could not render mailing %s for %s", self.mailing_id, recipient.pk)
            outcome = Outcome("failed", f"not sent: could not build the message ({error})"[:500])
            result = Result(recipient.pk, recipient.attempts, outcome)
        else:
            self.limiter.wait()
            self.journal.started(recipient.pk)
            outcome = self.transport.send(sender, recipient.email, message, following)
            result = Result(recipient.pk, recipient.attempts, outcome, _message_id(message))
        self.journal.answered(
            recipient.pk,
            result.outcome.state,
            result.outcome.response,
            result.message_id,
            result.at.timestamp(),
        )
        return result


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


RATE_WINDOW_SECONDS = 10


def progress(mailing: Mailing) -> dict[str, Any]:
    """What the staff page's progress bar shows."""
    counts = state_counts(mailing.pk)
    # Messages a second over the last few seconds (or since the start, if later): a
    # fast send of a small list is over well within a minute.
    now = timezone.now()
    since = now - timedelta(seconds=RATE_WINDOW_SECONDS)
    if mailing.started_at and mailing.started_at > since:
        since = mailing.started_at
    window = max(1.0, (now - since).total_seconds())
    recent = MailingRecipient.objects.filter(mailing_id=mailing.pk, sent_at__gte=since).count()
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
        "rate": round(recent / window, 1),
        "started_at": mailing.started_at.isoformat() if mailing.started_at else None,
        "finished_at": mailing.finished_at.isoformat() if mailing.finished_at else None,
    }


def pending_count(mailing_id: int, states: Iterable[str] = PENDING_STATES) -> int:
    return MailingRecipient.objects.filter(mailing_id=mailing_id, state__in=list(states)).count()
