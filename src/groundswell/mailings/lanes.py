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
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.db import transaction

from groundswell.lib.stopping import tasks_should_stop
from groundswell.lib.summaries import log_summary
from groundswell.lib.turns import writers_take_turns

from . import journal
from .claims import Result, claim_batch, give_back, mark_window, release_claims, write_results
from .models import Mailing, MailingRecipient, MailingStatus, SendWorker
from .progress import live_lanes
from .recovery import beat, cancel_left_over_recipients, recover_dead_workers, register_worker
from .smtp import Outcome, Transport, make_transport

logger = logging.getLogger(__name__)

# Recipients marked *sending* in one commit. It bounds what becomes unknown when a
# worker dies out of reach of its journal (another host).
WINDOW = 50
# Answers wait at most this long (or until the window is done) before they are committed.
FLUSH_EVERY = 0.5


HEARTBEAT_EVERY = 2.0
# How often a worker re-reads the mailing's status (pause, cancel) and rate share.
STATUS_EVERY = 0.5


# After the mail server could not be reached at all, wait this long before trying again.
SERVER_DOWN_DELAY = 60


_MESSAGE_ID = re.compile(rb"^Message-ID:\s*(<[^>\r\n]*>)", re.IGNORECASE | re.MULTILINE)


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
        # In turn with the other writers on SQLite (lib/turns.py): none waits out the
        # busy timeout behind another.
        with writers_take_turns(), transaction.atomic():
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
        started = time.monotonic()
        deadline = None if seconds is None else started + seconds
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
            self._log_summary(time.monotonic() - started)
        return self.report

    def _log_summary(self, seconds: float) -> None:
        report = self.report
        if not (report.sent or report.failed or report.retried or report.unknown):
            return  # a lane that found nothing to do
        log_summary(
            logger,
            "send lane",
            {
                "mailing": self.mailing_id,
                "seconds": round(seconds, 1),
                "sent": report.sent,
                "failed": report.failed,
                "retried": report.retried,
                "unknown": report.unknown,
                "per_second": round(report.sent / seconds, 1) if seconds > 0 else 0,
                "stopped": report.stopped_because or "error",
            },
        )

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
                if tasks_should_stop():
                    # The window's unstarted rest goes back (_stop); a successor lane
                    # on another worker sends it.
                    self.report.stopped_because = "worker stopping"
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
