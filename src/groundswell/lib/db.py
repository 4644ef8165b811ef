"""Transactions shaped to the database underneath."""

from __future__ import annotations

import functools
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import (
    DEFAULT_DB_ALIAS,
    close_old_connections,
    connections,
    models,
    transaction,
)
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model
from django.db.models.expressions import RawSQL

# Handed on from lib/inserts.py and lib/prepared.py (where the hot reads answer
# DATABASE_AWAY), so that the rest of the code finds them all here.
from groundswell.lib.inserts import binds_on_server
from groundswell.lib.inserts import insert_all as insert_all
from groundswell.lib.inserts import insert_values as insert_values
from groundswell.lib.prepared import DATABASE_AWAY as DATABASE_AWAY
from groundswell.lib.prepared import fetch_prepared


def check_connection_after_idle(idle_since: float, *, after: float = 1.0) -> None:
    """For a writer's loop, what Django does before each request (close_old_connections:
    drop a connection that is broken or past CONN_MAX_AGE, and check its health at the
    next use, a `SELECT 1` round trip on PostgreSQL), but only once the connection has
    been idle `after` seconds. Between batches that follow each other it is the
    connection that just worked, and the check was a tenth of the writer's time on
    PostgreSQL; a batch that fails closes it anyway."""
    if time.monotonic() - idle_since >= after:
        close_old_connections()


def column_in(
    column: str, values: Collection[Any], using: str = DEFAULT_DB_ALIAS
) -> tuple[str, list[Any]]:
    """SQL saying that `column` (a quoted name) is one of `values`, and its parameters,
    for hand-written statements on hot paths. On PostgreSQL `column = ANY(%s)` with one
    array: the same text for any number of values, which the server can keep prepared
    (bind_on_server). Elsewhere `column IN (%s, …)`; no values matches nothing."""
    values = list(values)
    connection = connections[using]
    if connection.vendor == "postgresql":
        return f"{column} = ANY({_array_placeholder(connection)})", [values]
    if not values:
        return "1 = 0", []
    return f"{column} IN ({', '.join(['%s'] * len(values))})", values


def column_of(model: type[Model], name: str, using: str = DEFAULT_DB_ALIAS) -> str:
    """The column of `model`'s field `name`, quoted and named with its table, for SQL
    written by hand."""
    meta = model._meta
    field = meta.get_field(name)
    assert isinstance(field, Field) and field.column
    quote = connections[using].ops.quote_name
    return f"{quote(meta.db_table)}.{quote(field.column)}"


def each_in(model: type[Model], using: str = DEFAULT_DB_ALIAS, **values: Collection[Any]) -> RawSQL:
    """A condition for filter(): each named field is one of its values, written as
    column_in writes it. An ORM `__in` of a few hundred values costs more Python, in
    preparing each value and in psycopg splitting a statement of hundreds of
    placeholders, than the rows read with it (the click flush's reads)."""
    clauses, params = [], []
    for name, among in values.items():
        clause, clause_params = column_in(column_of(model, name, using), among, using)
        clauses.append(clause)
        params += clause_params
    # Names from the model's metadata, quoted; the values are parameters.
    return RawSQL(" AND ".join(clauses), params, output_field=models.BooleanField())  # noqa: S611


@dataclass(frozen=True)
class _SelectPlan:
    columns: str
    table: str
    attnames: list[str]
    # Each column's expression and the functions that turn its value into the field's.
    converters: list[tuple[Any, list[Any]]]


@functools.lru_cache(maxsize=64)
def _select_plan(
    model: type[Model], alias: str, only: tuple[str, ...] | None = None
) -> _SelectPlan:
    meta = model._meta
    connection = connections[alias]
    quote = connection.ops.quote_name
    fields = [f for f in meta.concrete_fields if only is None or f.primary_key or f.attname in only]
    columns = ", ".join(quote(f.column) for f in fields)
    converters: list[tuple[Any, list[Any]]] = []
    for field in fields:
        # As the query compiler finds them: the backend's, then the field's own.
        column = field.get_col(meta.db_table)
        found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        converters.append((column, found))
    return _SelectPlan(
        columns=columns,
        table=quote(meta.db_table),
        attnames=[f.attname for f in fields],
        converters=converters,
    )


def select_where(
    model: type[Model], where: str, params: Sequence[Any], using: str = DEFAULT_DB_ALIAS
) -> list[Any]:
    """Instances of `model` whose rows match `where` (SQL with %s parameters, such as
    column_in's), every concrete field loaded. What raw() gives, without the work raw()
    repeats on every call (reading the cursor's column names to match them to fields,
    finding each one's converters): for statements run in every batch of signatures.
    Values are converted as the ORM reads them (time zones on SQLite)."""
    return [instance for instance, _extra in select_where_with(model, (), where, params, using)]


def select_where_with(
    model: type[Model],
    extra: Sequence[str],
    where: str,
    params: Sequence[Any],
    using: str = DEFAULT_DB_ALIAS,
    *,
    only: tuple[str, ...] | None = None,
) -> list[tuple[Any, tuple[Any, ...]]]:
    """select_where, with more columns after the model's (SQL expressions, such as a
    correlated subquery naming the model's table), returned beside each instance as
    they come from the database. `params` hold those expressions' parameters first,
    then the WHERE clause's. One statement where a page needed two. `only`: the
    fields to read besides the primary key (the others are read when first used, as
    with QuerySet.only); all when None."""
    plan = _select_plan(model, using, only)
    connection = connections[using]
    rows = fetch_prepared(_select_sql(model, using, only, tuple(extra), where), params, using)
    found = []
    width = len(plan.attnames)
    for row in rows:
        values = list(row[:width])
        for i, (column, converters) in enumerate(plan.converters):
            for convert in converters:
                values[i] = convert(values[i], column, connection)
        found.append((model.from_db(using, plan.attnames, values), tuple(row[width:])))
    return found


@functools.lru_cache(maxsize=64)
def _select_sql(
    model: type[Model], using: str, only: tuple[str, ...] | None, extra: tuple[str, ...], where: str
) -> str:
    plan = _select_plan(model, using, only)
    return f"SELECT {', '.join([plan.columns, *extra])} FROM {plan.table} WHERE {where}"  # noqa: S608


def _array_placeholder(connection: BaseDatabaseWrapper) -> str:
    """PostgreSQL: where the server binds parameters (bind_on_server), arrays go in
    binary, which psycopg writes faster than text (docs/performance.md). A client-side
    cursor cannot send binary."""
    return "%b" if binds_on_server(connection) else "%s"


def bind_on_server(using: str = DEFAULT_DB_ALIAS) -> None:
    """For a long-lived process that runs the same few statements over and over (the
    signature writer): on PostgreSQL, send parameters apart from the SQL and let the
    server keep each statement prepared after its first use, instead of psycopg
    quoting every value into a new statement text that the server parses and plans
    each time. Measured on the writer's transaction: a third less of PostgreSQL's CPU
    per transaction. Affects only the calling thread's connection (it reconnects);
    elsewhere it does nothing."""
    connection = connections[using]
    # Behind a pooler in transaction mode, a statement prepared on one server
    # connection is not there on the next (docs/deploy.md).
    if connection.vendor != "postgresql" or settings.DATABASE_TRANSACTION_POOLING:
        return
    options = connection.settings_dict.get("OPTIONS", {})
    if options.get("server_side_binding") is True and options.get("prepare_threshold") == 1:
        return
    connection.close()
    # Copies: every thread's connection shares the settings' own dict.
    connection.settings_dict = {
        **connection.settings_dict,
        "OPTIONS": {**options, "server_side_binding": True, "prepare_threshold": 1},
    }


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
