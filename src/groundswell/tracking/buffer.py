"""Clicks and opens are kept in memory and written in batches, off the request.

A redirect must not wait for an INSERT (and its commit) to answer. Each process
keeps one `EventBuffer` per kind of event; `add()` only appends under a lock.
A daemon thread writes whatever has gathered every `TRACKING_FLUSH_SECONDS`
(default 1 s), or at once when `TRACKING_BATCH_SIZE` (default 500) events wait,
in one transaction (rows of values, lib/inserts.insert_values). At normal process exit
`atexit` writes the rest (a web worker's exit too: `groundswell serve` stops its
workers so that they exit).
With `TRACKING_BACKGROUND_FLUSHES` off there is no thread: events wait until the
process exits or calls `flush()` itself (a one-shot command, or a test that writes
inside its own transaction).

What can be lost: the events of the last flush interval (about a second) when
the process is killed without a normal exit (SIGKILL, OOM, power loss), and the
oldest events past `TRACKING_MAX_PENDING` (default 100,000) if the database
stays unwritable that long; each drop is logged. Nothing else is lost: a batch the
database refuses is written again row by row, skipping only rows that no longer
fit (a mailing or person deleted meanwhile).
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing.util
import os
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from django.conf import settings
from django.db import connection

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Events written in one transaction at most.
WRITE_CHUNK = 500


class EventBuffer(Generic[T]):
    def __init__(self, name: str, write: Callable[[list[T]], None]) -> None:
        self.name = name
        self._write = write
        self._pending: list[T] = []
        self._lock = threading.Lock()
        # Only one flush at a time, so batches reach the database in order.
        self._flush_lock = threading.Lock()
        self._wake = threading.Event()
        self._thread_pid: int | None = None
        self._atexit_pid: int | None = None
        self.dropped = 0

    def add(self, event: T) -> None:
        with self._lock:
            self._pending.append(event)
            size = len(self._pending)
            limit = int(settings.TRACKING_MAX_PENDING)
            if size > limit:
                overflow = size - limit
                del self._pending[:overflow]
                self.dropped += overflow
                logger.warning("%s buffer full: dropped %d oldest events", self.name, overflow)
        self._ensure_thread()
        if size >= settings.TRACKING_BATCH_SIZE:
            self._wake.set()

    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def flush(self, *, background: bool = False) -> int:
        """Write everything gathered so far; returns how many events were written.

        A background flush (the thread's) writes nothing while TRACKING_BACKGROUND_FLUSHES
        is off."""
        with self._flush_lock:
            with self._lock:
                # Read together with taking the batch: a thread that woke just before
                # the switch was turned off must not write what came after it.
                if background and not settings.TRACKING_BACKGROUND_FLUSHES:
                    return 0
                batch, self._pending = self._pending, []
            written = 0
            # One transaction per chunk: when one fails, those before it are written
            # and must not be kept for the next try (they would be written twice).
            while written < len(batch):
                chunk = batch[written : written + WRITE_CHUNK]
                try:
                    self._write(chunk)
                except Exception:
                    logger.exception(
                        "%s buffer: could not write %d events", self.name, len(batch) - written
                    )
                    with self._lock:
                        # Keep them for the next try, ahead of newer events.
                        self._pending[:0] = batch[written:]
                    return written
                written += len(chunk)
            return written

    def clear(self) -> None:
        with self._lock:
            self._pending = []

    def _ensure_thread(self) -> None:
        # One thread per process: a forked worker starts its own on its first event.
        pid = os.getpid()
        if self._thread_pid == pid:
            return
        with self._lock:
            if self._atexit_pid != pid:
                self._atexit_pid = pid
                atexit.register(self.flush)
                # A multiprocessing child (a web worker of `groundswell serve`) ends
                # with os._exit, which skips atexit; it runs these finalizers first.
                multiprocessing.util.Finalize(None, self.flush, exitpriority=10)
            if self._thread_pid == pid or not settings.TRACKING_BACKGROUND_FLUSHES:
                return
            self._thread_pid = pid
        thread = threading.Thread(target=self._run, name=f"{self.name}-flusher", daemon=True)
        thread.start()

    def _run(self) -> None:
        while True:
            self._wake.wait(timeout=float(settings.TRACKING_FLUSH_SECONDS))
            self._wake.clear()
            try:
                self.flush(background=True)
            finally:
                # A connection per flush (a second apart at most): none is left
                # open and idle by a thread nobody else can reach.
                connection.close()
            # A steady stream is written in batches, not one flush per event.
            time.sleep(0.01)
