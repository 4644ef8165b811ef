"""Hot reads prepared once per PostgreSQL connection (lib/db.py's select_where uses it)."""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence
from typing import Any

import psycopg
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections
from django.db.backends.base.base import BaseDatabaseWrapper

# Errors that say the database cannot be used now (its server gone or refusing
# connections, a lock held past the busy timeout, a full disk), as opposed to something
# wrong with what was written. A transaction that ends in one of them wrote nothing.
# Here because fetch_prepared answers them; lib/db.py, which imports this module,
# hands it on to the rest of the code.
DATABASE_AWAY: tuple[type[Exception], ...] = (OperationalError, InterfaceError)


def fetch_prepared(sql: str, params: Sequence[Any], using: str = DEFAULT_DB_ALIAS) -> list[Any]:
    """The rows of a read written by hand for a hot path (its text the same at every
    call). On PostgreSQL the statement is prepared on the connection at its first use
    and run from then on without being parsed and planned again: the member query of
    a recognised page cost PostgreSQL 190 µs of CPU a time planned afresh, 40 µs
    prepared (docs/performance.md). Django turns psycopg's preparing off (it quotes
    values into the text on the client); this read asks for it on a cursor that sends
    values apart.

    It also stands for Django's health check of a connection kept from an earlier
    request (a `SELECT 1` round trip before the first statement): the read itself
    shows whether the connection works, and when one kept from before fails, the
    read runs again once on a new connection. Elsewhere, and behind a pooler in
    transaction mode (where a prepared statement is not on the next server
    connection), it is an ordinary cursor's read."""
    connection = connections[using]
    if connection.vendor != "postgresql" or settings.DATABASE_TRANSACTION_POOLING:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    kept = connection.connection is not None
    try:
        return _fetch_prepared(connection, sql, params)
    except DATABASE_AWAY:
        # A connection from an earlier request may have died meanwhile (a restart of
        # the server); one made just now, or one in a transaction, fails for real.
        if not kept or connection.in_atomic_block:
            raise
        connection.close()
        return _fetch_prepared(connection, sql, params)


def _fetch_prepared(connection: BaseDatabaseWrapper, sql: str, params: Sequence[Any]) -> list[Any]:
    connection.validate_thread_sharing()
    connection.validate_no_broken_transaction()
    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None:
        # Only what asks for it (prepare=True) is prepared: Django's own statements
        # go through client-side cursors, which never are.
        raw.prepare_threshold = _PREPARE_ONLY_WHEN_ASKED
    started = time.monotonic()
    with connection.wrap_database_errors, psycopg.Cursor(raw) as cursor:
        context = {"connection": connection, "cursor": cursor}

        def execute(sql: str, params: Any, many: bool, context: dict[str, Any]) -> None:
            cursor.execute(sql, params, prepare=True)

        run = execute
        for wrapper in reversed(connection.execute_wrappers):
            run = functools.partial(wrapper, run)
        run(sql, params, False, context)
        rows = cursor.fetchall()
    # The connection answered: Django's check before its next statement in this
    # request would only say so again.
    connection.health_check_done = True  # type: ignore[attr-defined]
    if connection.queries_logged:
        try:
            shown = connection.ops.compose_sql(sql, params)  # type: ignore[attr-defined]
        except psycopg.DataError:
            shown = sql
        connection.queries_log.append({"sql": shown, "time": f"{time.monotonic() - started:.3f}"})
    return rows


# psycopg prepares a statement after this many runs unless told; never, here.
_PREPARE_ONLY_WHEN_ASKED = 2**31 - 1
