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
from django.db.models.fields import AutoFieldMixin
from django.utils import timezone

# DATABASE_AWAY is handed on from lib/prepared.py, where the hot reads answer it.
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


def each_in(model: type[Model], using: str = DEFAULT_DB_ALIAS, **values: Collection[Any]) -> RawSQL:
    """A condition for filter(): each named field is one of its values, written as
    column_in writes it. An ORM `__in` of a few hundred values costs more Python, in
    preparing each value and in psycopg splitting a statement of hundreds of
    placeholders, than the rows read with it (the click flush's reads)."""
    meta = model._meta
    quote = connections[using].ops.quote_name
    clauses, params = [], []
    for name, among in values.items():
        field = meta.get_field(name)
        assert isinstance(field, Field) and field.column
        column = f"{quote(meta.db_table)}.{quote(field.column)}"
        clause, clause_params = column_in(column, among, using)
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


def _binds_on_server(connection: BaseDatabaseWrapper) -> bool:
    return bool(connection.settings_dict.get("OPTIONS", {}).get("server_side_binding"))


def _array_placeholder(connection: BaseDatabaseWrapper) -> str:
    """PostgreSQL: where the server binds parameters (bind_on_server), arrays go in
    binary, which psycopg writes faster than text (docs/performance.md). A client-side
    cursor cannot send binary."""
    return "%b" if _binds_on_server(connection) else "%s"


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


def insert_all(objs: Sequence[Model], using: str = DEFAULT_DB_ALIAS) -> None:
    """bulk_create for plain models with an auto-increment primary key, sets each
    object's pk, in a fraction of its Python time: one multi-row INSERT … RETURNING
    per chunk (on PostgreSQL one INSERT … SELECT FROM UNNEST of an array per column,
    the same text for any number of rows, as bulk_create does), each value prepared as
    Django would (pre_save, then get_db_prep_save) but planned once per model: values
    of plain fields that Django would pass unchanged are passed as they are, and
    timestamps set on insert are one instant per call, without the query compiler's
    per-value work.

    For the hot path of signatures written together, where the ORM's per-row cost is
    most of the time spent holding the write lock. Like bulk_create it relies on
    RETURNING giving rows in the order given (SQLite 3.35+ and PostgreSQL do).
    """
    if not objs:
        return
    model = type(objs[0])
    connection = connections[using]
    if connection.vendor not in ("sqlite", "postgresql"):
        model._default_manager.db_manager(using).bulk_create(objs)
        return
    plan = _insert_plan(model, connection.alias)
    # Timestamps set on insert are one instant for the whole statement.
    now = timezone.now()
    stamps = {}
    for field in plan.stamped:
        stamps[field.attname] = field.get_db_prep_save(now, connection)
        for obj in objs:
            setattr(obj, field.attname, now)
    per_statement = _per_statement(connection, len(plan.fields))
    with connection.cursor() as cursor:
        for start in range(0, len(objs), per_statement):
            chunk = objs[start : start + per_statement]
            params: list[Any] = []
            for obj in chunk:
                values = obj.__dict__
                for field, plain in plan.prepare:
                    if field.attname in stamps:
                        params.append(stamps[field.attname])
                        continue
                    value = values.get(field.attname, _MISSING) if plain else _MISSING
                    if value is _MISSING or not (value is None or type(value) in plain):
                        value = field.get_db_prep_save(field.pre_save(obj, True), connection)
                    params.append(value)
            _execute_insert(connection, cursor, plan.sql, len(plan.fields), len(chunk), params)
            if plan.generated:
                for obj, (pk,) in zip(chunk, cursor.fetchall(), strict=True):
                    obj.pk = pk
            for obj in chunk:
                obj._state.adding = False
                obj._state.db = using


def _execute_insert(
    connection: BaseDatabaseWrapper,
    cursor: Any,
    sql: _InsertSQL,
    width: int,
    rows: int,
    params: list[Any],
) -> None:
    if sql.unnest and rows > 1:
        # One array per column: the same statement text whatever the number of rows,
        # so psycopg parses it once, not once per batch size.
        unnest = sql.unnest_binary if _binds_on_server(connection) else sql.unnest
        cursor.execute(unnest, [params[i::width] for i in range(width)])
    else:
        cursor.execute(sql.head + ", ".join([sql.row] * rows) + sql.tail, params)


def _per_statement(connection: BaseDatabaseWrapper, width: int) -> int:
    # SQLite allows 999 parameters a statement (older builds), PostgreSQL 65,535.
    return max(1, (999 if connection.vendor == "sqlite" else 65_535) // width)


def insert_values(
    model: type[Model],
    attnames: tuple[str, ...],
    rows: Sequence[Sequence[Any]],
    using: str = DEFAULT_DB_ALIAS,
) -> None:
    """Rows given as values of the named fields, inserted without a model instance
    each and without reading their keys back: for events written by the hundred
    (clicks), where building the instances was half of a flush's Python time. Values
    as the fields hold them, for every field but a generated key (defaults are not
    filled in): numbers, text, booleans and None pass as they are, any other (a time,
    an IP address) is prepared as Django would (get_db_prep_save)."""
    if not rows:
        return
    connection = connections[using]
    fields, prepare, sql = _values_plan(model, connection.alias, attnames)
    if connection.vendor not in ("sqlite", "postgresql"):
        model._default_manager.db_manager(using).bulk_create(
            [model(**dict(zip(attnames, row, strict=True))) for row in rows]
        )
        return
    width = len(fields)
    per_statement = _per_statement(connection, width)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            params: list[Any] = []
            for row in chunk:
                for value, (field, plain) in zip(row, prepare, strict=True):
                    if not (value is None or type(value) in plain):
                        value = field.get_db_prep_save(value, connection)
                    params.append(value)
            if connection.vendor == "postgresql":
                # COPY: each value written by psycopg's dumpers, in C, where the
                # statement's arrays were quoted value by value in Python.
                with cursor.cursor.copy(sql.copy) as copy:
                    for i in range(0, len(params), width):
                        copy.write_row(params[i : i + width])
            else:
                _execute_insert(connection, cursor, sql, width, len(chunk), params)


@functools.lru_cache(maxsize=64)
def _values_plan(
    model: type[Model], alias: str, attnames: tuple[str, ...]
) -> tuple[list[Field[Any, Any]], list[tuple[Field[Any, Any], tuple[type, ...]]], _InsertSQL]:
    connection = connections[alias]
    meta = model._meta
    by_attname = {f.attname: f for f in meta.concrete_fields}
    generated = isinstance(meta.pk, AutoFieldMixin)
    # Every field a value: a model's defaults are not the database's.
    missing = set(by_attname) - set(attnames) - ({meta.pk.attname} if generated else set())
    if missing or not set(attnames) <= set(by_attname):
        raise ValueError(f"insert_values needs a value for each field of {meta.label}: {attnames}")
    fields = [by_attname[name] for name in attnames]
    return (
        fields,
        [(f, _plain_types(f)) for f in fields],
        _insert_sql(model, connection, fields, ""),
    )


def _plain_types(field: Field[Any, Any]) -> tuple[type, ...]:
    """The types of value that get_db_prep_save returns unchanged for this field."""
    if isinstance(field, models.ForeignKey) and type(field.target_field) in (
        models.AutoField,
        models.BigAutoField,
        models.IntegerField,
        models.BigIntegerField,
    ):
        return (int,)
    return _PLAIN_TYPES.get(type(field), ())


_MISSING = object()

# Fields whose value of these exact types get_db_prep_save returns unchanged, on SQLite
# and on PostgreSQL alike (after a pre_save that only reads the attribute): they are
# passed as they are.
_TEXT_FIELDS = (
    models.CharField,
    models.TextField,
    models.EmailField,
    models.SlugField,
    models.URLField,
)
_WHOLE_NUMBER_FIELDS = (
    models.IntegerField,
    models.BigIntegerField,
    models.SmallIntegerField,
    models.PositiveIntegerField,
    models.PositiveSmallIntegerField,
    models.PositiveBigIntegerField,
)
_PLAIN_TYPES: dict[type[Field[Any, Any]], tuple[type, ...]] = {
    **dict.fromkeys(_TEXT_FIELDS, (str,)),
    models.BooleanField: (bool,),
    **dict.fromkeys(_WHOLE_NUMBER_FIELDS, (int,)),
}


@dataclass(frozen=True)
class _InsertPlan:
    fields: list[Field[Any, Any]]
    # Each field with the value types it passes through as they are (empty: prepare it).
    prepare: list[tuple[Field[Any, Any], tuple[type, ...]]]
    # DateTimeFields with auto_now or auto_now_add.
    stamped: Sequence[Field[Any, Any]]
    generated: bool
    sql: _InsertSQL


@functools.lru_cache(maxsize=64)
def _insert_plan(model: type[Model], alias: str) -> _InsertPlan:
    meta = model._meta
    connection = connections[alias]
    # An auto-increment key comes back from the database; any other is the object's own.
    generated = isinstance(meta.pk, AutoFieldMixin)
    fields = [f for f in meta.concrete_fields if not (generated and f.primary_key)]
    prepare = [(field, _plain_types(field)) for field in fields]
    stamped = [
        f
        for f in fields
        if isinstance(f, models.DateTimeField)
        and (getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False))
    ]
    assert meta.pk is not None
    tail = f" RETURNING {connection.ops.quote_name(meta.pk.column)}" if generated else ""
    return _InsertPlan(
        fields=fields,
        prepare=prepare,
        stamped=stamped,
        generated=generated,
        sql=_insert_sql(model, connection, fields, tail),
    )


@dataclass(frozen=True)
class _InsertSQL:
    head: str
    row: str
    tail: str
    # PostgreSQL: INSERT … SELECT * FROM UNNEST(one array per column), when every
    # column can be sent as an array (as Django's own bulk_create decides); the same
    # with the arrays sent in binary, for a connection that binds on the server.
    unnest: str
    unnest_binary: str
    # PostgreSQL: COPY of the same columns.
    copy: str


def _insert_sql(
    model: type[Model], connection: BaseDatabaseWrapper, fields: list[Field[Any, Any]], tail: str
) -> _InsertSQL:
    meta = model._meta
    quote = connection.ops.quote_name
    # Only names from the model's own metadata, quoted; every value is a parameter.
    columns = ", ".join(quote(f.column) for f in fields)
    unnest = unnest_binary = ""
    db_types = [f.db_type(connection) for f in fields]
    if (
        connection.vendor == "postgresql"
        and all(db_types)
        and not any(
            hasattr(f, "get_placeholder")
            or (getattr(f, "target_field", f) if f.is_relation else f).get_internal_type()
            not in connection.data_types
            for f in fields
        )
    ):
        # Without the types' lengths, as Django does: varchar[], not varchar(50)[].
        arrays = ", ".join(f"(%s)::{str(t).split('(')[0]}[]" for t in db_types)
        unnest = (
            f"INSERT INTO {quote(meta.db_table)} ({columns}) "  # noqa: S608
            f"SELECT * FROM UNNEST({arrays}){tail}"
        )
        unnest_binary = unnest.replace("(%s)::", "(%b)::")
    return _InsertSQL(
        head=f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ",  # noqa: S608
        row="(" + ", ".join(["%s"] * len(fields)) + ")",
        tail=tail,
        unnest=unnest,
        unnest_binary=unnest_binary,
        copy=f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN",
    )
