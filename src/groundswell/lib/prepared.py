"""Hot reads prepared once per PostgreSQL connection (lib/db.py's select_where uses it)."""

from __future__ import annotations

import functools
import itertools
import re
import time
import weakref
from collections.abc import Sequence
from typing import Any

import psycopg
import psycopg.abc
import psycopg.errors
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from psycopg.adapt import PyFormat, Transformer
from psycopg.pq import DiagnosticField, ExecStatus, TransactionStatus
from psycopg.pq.abc import PGresult

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
    prepared (docs/performance.md). Django quotes values into the text on the client;
    this read sends them apart, straight through libpq (_run_named), or through
    psycopg's cursor on a connection where psycopg prepares statements itself.

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
    context: dict[str, Any] = {"connection": connection, "cursor": None}
    rows: list[Any] = []

    def execute(sql: str, params: Any, many: bool, context: dict[str, Any]) -> None:
        nonlocal rows
        if raw.prepare_threshold == _PREPARE_ONLY_WHEN_ASKED:
            rows = _run_named(raw, sql, params)
            return
        # A connection on which psycopg prepares statements itself (bind_on_server's):
        # psycopg's, for psycopg deallocates all it knows of after a rollback.
        with psycopg.Cursor(raw) as cursor:
            cursor.execute(sql, params, prepare=True)
            rows = cursor.fetchall()

    run = execute
    for wrapper in reversed(connection.execute_wrappers):
        run = functools.partial(wrapper, run)
    with connection.wrap_database_errors:
        run(sql, params, False, context)
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


# The statements fetch_prepared has prepared on each connection, by their text.
_named: weakref.WeakKeyDictionary[psycopg.Connection[Any], dict[str, bytes]] = (
    weakref.WeakKeyDictionary()
)
# Names no statement of ours has had in this process (one dropped is never reused).
_names = itertools.count(1)
_PLACEHOLDER = re.compile(r"%[sb]|%%")


def _as_text(raw: psycopg.Connection[Any], params: Sequence[Any]) -> list[bytes | None]:
    """The parameters in PostgreSQL's text form, their types left for the server to
    infer from the statement (so that one statement serves any size of number).
    Whole numbers, text and booleans are written here, anything else (an array, a
    time) by psycopg's dumpers. Text holding a NUL is refused, as psycopg refuses it:
    libpq would end it there."""
    texts: list[bytes | None] = []
    transformer: psycopg.abc.Transformer | None = None
    for value in params:
        kind = type(value)
        if value is None:
            texts.append(None)
        elif kind is bool:
            texts.append(b"t" if value else b"f")
        elif kind is int or (kind is str and "\x00" not in value):
            texts.append(str(value).encode())
        else:
            transformer = transformer or Transformer(raw)
            dumped = transformer.dump_sequence([value], [PyFormat.TEXT])[0]
            texts.append(None if dumped is None else bytes(dumped))
    return texts


def _numbered(sql: str) -> bytes:
    count = 0

    def number(match: re.Match[str]) -> str:
        nonlocal count
        if match[0] == "%%":
            return "%"
        count += 1
        return f"${count}"

    return _PLACEHOLDER.sub(number, sql).encode()


def _run_named(raw: psycopg.Connection[Any], sql: str, params: Sequence[Any]) -> list[Any]:
    """The rows of a statement prepared under a name of ours, run straight through
    libpq: a third of the client's CPU that psycopg's cursor spends on the same read
    (27 against 88 µs for the member's page, docs/performance.md). Values come back
    as the cursor gives them (psycopg's loaders). Only on connections where psycopg
    prepares nothing itself: after any rollback it deallocates every statement of
    the connection, ours included, when it has prepared one of its own."""
    texts = _as_text(raw, params)
    names = _named.setdefault(raw, {})
    with raw.lock:
        for attempt in (1, 2):
            name = names.get(sql)
            if name is None:
                name = f"groundswell_{next(_names)}".encode()
                _check(raw, raw.pgconn.prepare(name, _numbered(sql)))
                names[sql] = name
            # None is NULL to libpq (and to psycopg's binding of it).
            result = raw.pgconn.exec_prepared(name, texts)  # type: ignore[arg-type]
            if (
                attempt == 1
                and result.error_field(DiagnosticField.SQLSTATE) == b"26000"
                and raw.pgconn.transaction_status == TransactionStatus.IDLE
            ):
                # Deallocated by someone else (DISCARD ALL): prepared again.
                del names[sql]
                continue
            _check(raw, result)
            break
    transformer = Transformer(raw)
    transformer.set_pgresult(result)
    return transformer.load_rows(0, result.ntuples, tuple)


def _check(raw: psycopg.Connection[Any], result: PGresult) -> None:
    if result.status in (ExecStatus.TUPLES_OK, ExecStatus.COMMAND_OK):
        return
    state = result.error_field(DiagnosticField.SQLSTATE)
    error = psycopg.errors.lookup(state.decode()) if state else psycopg.OperationalError
    raise error(result.error_message.decode(raw.info.encoding, "replace").strip())
