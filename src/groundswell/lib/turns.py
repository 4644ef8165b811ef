"""Writers taking turns for SQLite's one write lock: between the threads of a process
(a ticket lock, first come first served) and between processes (a file lock beside
the database), so no writer waits out the busy timeout behind another; and the
optional writes made while answering a read, which give way to any writer waiting.
On PostgreSQL all of this does nothing."""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Iterator

from django.db import DEFAULT_DB_ALIAS, OperationalError, connections
from django.db.backends.base.base import BaseDatabaseWrapper


class _Turn:
    """The writers' turn for one database file in this process.

    flock() excludes other processes only: threads share the open file, so a second
    thread's LOCK_EX succeeds at once, and its LOCK_UN lets go of the first one's
    lock. So threads take turns here first, in the order they asked (a plain lock
    goes back to whoever lets go of it, and a thread that writes batch after batch
    kept the others waiting for seconds), and only the thread whose turn it is takes
    the file lock. A thread waiting for its turn also shuts out the optional writes
    made while answering a read (turn_if_free): without that, a thousand page reads a
    second, each trying a moment's count refresh, kept the signature writer waiting
    until its busy timeout ran out.
    """

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.changed = threading.Condition(threading.Lock())
        self.next_ticket = 0  # the ticket the next thread to ask gets
        self.serving = 0  # the ticket whose turn it is
        self.owner: int | None = None  # the thread whose turn it is
        self.depth = 0  # how many turns it has taken inside its own

    def take(self, *, wait: bool) -> bool:
        me = threading.get_ident()
        with self.changed:
            if self.owner == me:
                self.depth += 1
                return True
            if not wait and (self.owner is not None or self.next_ticket != self.serving):
                return False
            ticket = self.next_ticket
            self.next_ticket += 1
            while self.serving != ticket or self.owner is not None:
                self.changed.wait()
            self.owner, self.depth = me, 1
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BaseException as error:
            self._next()
            if isinstance(error, BlockingIOError):
                return False
            raise
        return True

    def give_back(self) -> None:
        with self.changed:
            self.depth -= 1
            if self.depth:
                return
        try:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        finally:
            self._next()

    def _next(self) -> None:
        with self.changed:
            self.owner = None
            self.serving += 1
            self.changed.notify_all()


_counting = threading.Lock()
# Opened once per process and path. Keyed by pid too: a child forked after the open
# would share the parent's open file, and with it the lock, so it opens its own.
_turns: dict[tuple[int, str], _Turn] = {}


@contextlib.contextmanager
def writers_take_turns(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Around a write transaction on SQLite: wait for the other writers (threads of
    this process, then other processes) on locks of our own, not in SQLite's busy
    handler.

    A writer that finds SQLite's lock taken sleeps and retries (1, 2, 5 … up to
    100 ms), so the lock often sits free while everyone waiting sleeps. A lock of our
    own wakes the next waiter the moment the holder lets go. Writers that do not take
    it still queue on SQLite's own, as before; on PostgreSQL this does nothing.
    """
    connection = connections[using]
    # Inside a transaction it is too late: this connection may hold SQLite's lock
    # already, and waiting here for a writer who waits for it would stall both.
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield
        return
    turn = writers_turn(connection)
    turn.take(wait=True)
    try:
        yield
    finally:
        turn.give_back()


def writers_turn(connection: BaseDatabaseWrapper) -> _Turn:
    """This process's turn for the database this connection writes to."""
    path = f"{connection.settings_dict['NAME']}-writers.lock"
    key = (os.getpid(), path)
    turn = _turns.get(key)
    if turn is None:
        with _counting:
            turn = _turns.get(key)
            if turn is None:
                fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
                turn = _turns[key] = _Turn(fd)
    return turn


def is_busy(error: OperationalError) -> bool:
    """Whether a database error says only that another writer holds the lock."""
    return "locked" in str(error) or "busy" in str(error)


# How long a write made while answering a read waits for SQLite's lock.
READ_PATH_WAIT_MS = 100


@contextlib.contextmanager
def turn_if_free(using: str = DEFAULT_DB_ALIAS) -> Iterator[bool]:
    """For a write made while answering a read (the count's refresh), which may be
    skipped: on SQLite, whether the writers' turn (writers_take_turns) was free, with
    no thread of this process waiting for it, and
    with SQLite's own lock waited for at most READ_PATH_WAIT_MS, not the busy timeout.
    The caller writes only when given True, and treats OperationalError as "busy
    now": a page never waits out, or fails on, someone else's write. Elsewhere, and
    inside a transaction, always True with nothing changed."""
    connection = connections[using]
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield True
        return
    turn = writers_turn(connection)
    if not turn.take(wait=False):
        yield False
        return
    try:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA busy_timeout")
            (usual,) = cursor.fetchone()
            cursor.execute(f"PRAGMA busy_timeout = {READ_PATH_WAIT_MS:d}")
        try:
            yield True
        finally:
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA busy_timeout = {int(usual):d}")
    finally:
        turn.give_back()
