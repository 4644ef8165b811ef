"""Transactions shaped to the database underneath."""

from __future__ import annotations

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
