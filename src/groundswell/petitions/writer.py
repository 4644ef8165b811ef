"""Group commit for signatures: one writer thread per process, for when the machine's
signature writer process (writer_service.py, started by `groundswell serve`) does not
answer: under tests and runserver, or while it restarts.

Every signature needs the database's write lock for a moment (on SQLite the only one
there is), and the time it holds it goes mostly on Python between statements, not on
the statements. So the request threads of a server process do not write their own
signatures: each hands its signature, worked out as far as it can be without the
database (actions.prepare_signature), to this process's writer and waits. The writer
takes every signature waiting, writes them all in one transaction of a handful of
statements (actions.do_sign_petitions), and wakes each request with its own result
only after the commit: nothing is acknowledged before it is durable. When one
signature arrives alone it is written alone, at once; there is no waiting for others.

Should writing a batch fail for any reason (a bug, a database that stays locked),
each request in it writes its own signature on its own thread, as if there were no
writer, so one bad signature cannot fail the others.

A caller inside a transaction (tests, scripts) writes directly: the writer's own
connection could not see what that transaction has not committed.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time

from django.conf import settings
from django.db import close_old_connections, connection, transaction

from groundswell.lib.db import DATABASE_AWAY, check_connection_after_idle
from groundswell.lib.summaries import BatchSummary
from groundswell.lib.turns import writers_take_turns
from groundswell.petitions.actions.signing import PendingSignature, SignResult, do_sign_petitions
from groundswell.petitions.writer_client import SigningUnavailable, write_via_service

logger = logging.getLogger(__name__)

# At most this many signatures per transaction; more wait for the next one.
MAX_BATCH = 200
# The writer closes its database connection after this long without work.
IDLE_SECONDS = 30.0


class _Waiting:
    __slots__ = ("done", "pending", "result", "unavailable", "write_alone")

    def __init__(self, pending: PendingSignature) -> None:
        self.pending = pending
        self.done = threading.Event()
        self.result: SignResult | None = None
        self.write_alone = False
        self.unavailable = False


class SignatureWriter:
    def __init__(self) -> None:
        # A threading.Event in the queue asks the writer to close its connection.
        self._queue: queue.SimpleQueue[_Waiting | threading.Event] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.batches = 0  # how many transactions it committed (the group commit's effect)
        self._idle_since = 0.0  # when the last batch ended (monotonic)
        self._writing = 0
        self.summary = BatchSummary(logger, "in-process signature writer")

    def write(self, pending: PendingSignature) -> SignResult:
        waiting = _Waiting(pending)
        self._ensure_running()
        self._queue.put(waiting)
        # The batch's transaction is bounded by the database's own timeouts (SQLite's
        # busy timeout, PostgreSQL's lock and statement timeouts), after which the batch
        # fails and every request in it writes alone. Should the thread itself die, the
        # signature is written alone too (and only once: a second write finds it signed).
        while not waiting.done.wait(1.0):
            if self._thread is None or not self._thread.is_alive():
                break
        if waiting.unavailable:
            raise SigningUnavailable("the database is unavailable")
        if waiting.write_alone or waiting.result is None:
            [result] = do_sign_petitions([pending])
            return result
        return waiting.result

    def waiting(self) -> int:
        """How many signatures wait for the writer to take them."""
        return self._queue.qsize()

    def writing(self) -> int:
        """How many signatures the writer has taken into the transaction it is writing
        (0 between batches); any that arrive meanwhile go in the next one."""
        return self._writing

    def _ensure_running(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="signature-writer", daemon=True
                )
                self._thread.start()

    def close_connection(self) -> None:
        """Have the writer close its database connection now (before the database is
        dropped or restarted); it opens a new one for the next batch."""
        if self._thread is not None and self._thread.is_alive():
            closed = threading.Event()
            self._queue.put(closed)
            closed.wait(30)

    def _run(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=IDLE_SECONDS)
            except queue.Empty:
                connection.close()
                continue
            batch: list[_Waiting] = []
            item: _Waiting | threading.Event | None = first
            while item is not None:
                if isinstance(item, threading.Event):
                    connection.close()
                    item.set()
                else:
                    batch.append(item)
                if len(batch) == MAX_BATCH:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    item = None
            if batch:
                self._writing = len(batch)
                try:
                    self._write(batch)
                finally:
                    self._writing = 0

    def _write(self, batch: list[_Waiting]) -> None:
        self.summary.log_if_due()
        started = time.monotonic()
        try:
            check_connection_after_idle(self._idle_since)
            with writers_take_turns():
                results = do_sign_petitions([w.pending for w in batch])
        except DATABASE_AWAY:
            self.summary.failed(len(batch))
            # Not one signature's fault: writing each alone would only wait again.
            logger.warning("The database is unavailable: %s signatures not written.", len(batch))
            close_old_connections()
            for waiting in batch:
                waiting.unavailable = True
                waiting.done.set()
            return
        except Exception:
            logger.exception(
                "Writing %s signatures together failed; each is written alone.", len(batch)
            )
            close_old_connections()
            for waiting in batch:
                waiting.write_alone = True
                waiting.done.set()
            return
        self.batches += 1
        self.summary.add(len(batch), time.monotonic() - started)
        self._idle_since = time.monotonic()
        for waiting, result in zip(batch, results, strict=True):
            waiting.result = result
            waiting.done.set()


_writer: SignatureWriter | None = None
_writer_pid = 0
_writer_lock = threading.Lock()


def process_writer() -> SignatureWriter:
    """This process's writer (a forked child gets its own)."""
    global _writer, _writer_pid
    with _writer_lock:
        if _writer is None or _writer_pid != os.getpid():
            _writer, _writer_pid = SignatureWriter(), os.getpid()
        return _writer


def close_process_writer_connection() -> None:
    """Have this process's writer, if it has one, close its database connection."""
    with _writer_lock:
        writer = _writer if _writer_pid == os.getpid() else None
    if writer is not None:
        writer.close_connection()


def write_together(pending: PendingSignature) -> SignResult:
    """Write this signature with whatever others are waiting in this process; return
    once it is committed. SigningUnavailable when the database cannot take it now."""
    try:
        if not settings.SIGN_GROUP_COMMIT or transaction.get_connection().in_atomic_block:
            [result] = do_sign_petitions([pending])
            return result
        # The machine's writer process when there is one (writer_client.py), else ours.
        answered = write_via_service(pending)
        if answered is not None:
            return answered
        return process_writer().write(pending)
    except DATABASE_AWAY as error:
        raise SigningUnavailable(type(error).__name__) from error
