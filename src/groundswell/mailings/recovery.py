"""Send workers: registration, heartbeats, and recovering what a dead one left.

Recovery (``recover_dead_workers``). On this host, a worker is dead once its journal's
lock is free (the kernel drops it with the process); elsewhere, when its heartbeat is
older than STALE_AFTER. Its *claimed* recipients go back to *queued*. Its *sending*
ones follow its journal: answered → that answer; started, not answered → *unknown*
(the server may or may not have it: shown to staff, never resent on its own); not
started → *queued*. Without a readable journal (another host, another boot) all of
them become *unknown*: at most one window.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from . import journal
from .claims import Result, write_results
from .models import Mailing, MailingRecipient, MailingStatus, RecipientState, SendWorker

logger = logging.getLogger(__name__)

# A worker not seen for this long is taken for dead, wherever it runs.
STALE_AFTER = timedelta(seconds=60)


_HOSTNAME = socket.gethostname()


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
        found.close()  # replayed by the next recovery
        raise
    found.remove()
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
