"""Transactions shaped to the database underneath."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator

from django.db import DEFAULT_DB_ALIAS, connections, transaction


def savepoint_for_races(using: str = DEFAULT_DB_ALIAS) -> transaction.Atomic:
    """An atomic block around an INSERT that a concurrent writer can make fail with
    IntegrityError, so the caller can catch it and carry on in the same transaction.

    On PostgreSQL that needs a savepoint. On SQLite every write transaction is
    BEGIN IMMEDIATE (lib/env.py): writers run one at a time, a select-then-insert
    cannot race, and the savepoint would be two statements spent while holding the
    database's only write lock. There the block makes none; should an IntegrityError
    happen anyway, the whole transaction rolls back, which is still safe.
    """
    return transaction.atomic(using=using, savepoint=connections[using].vendor != "sqlite")


_turn_files: dict[str, int] = {}


@contextlib.contextmanager
def writers_take_turns(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Around a write transaction on SQLite: wait for the other processes' writers on
    an OS file lock beside the database file, not in SQLite's busy handler.

    A writer that finds SQLite's lock taken sleeps and retries (1, 2, 5 … up to
    100 ms), so the lock often sits free while everyone waiting sleeps. flock() wakes
    the next waiter the moment the holder lets go. Writers that do not take this lock
    still queue on SQLite's own, as before; on PostgreSQL this does nothing.
    """
    connection = connections[using]
    if connection.vendor != "sqlite":
        yield
        return
    path = f"{connection.settings_dict['NAME']}-writers.lock"
    fd = _turn_files.get(path)
    if fd is None:
        fd = _turn_files[path] = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
