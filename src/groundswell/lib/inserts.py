"""Bulk inserts for the hot paths: what bulk_create does, for a fraction of its Python.

lib/db.py hands these on to the rest of the code (`from groundswell.lib.db import
insert_all`).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model
from django.db.models.fields import AutoFieldMixin
from django.utils import timezone


def binds_on_server(connection: BaseDatabaseWrapper) -> bool:
    """Whether the connection sends parameters apart from the SQL (lib/db.py's
    bind_on_server made it so)."""
    return bool(connection.settings_dict.get("OPTIONS", {}).get("server_side_binding"))


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
        unnest = sql.unnest_binary if binds_on_server(connection) else sql.unnest
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
                # statement's arrays were quoted value by value in Python. (Not in
                # Django's query log: it is no statement of the cursor's.)
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
        [(f, _plain_types(f) or _plain_for_copy(f, connection)) for f in fields],
        _insert_sql(model, connection, fields, ""),
    )


def _plain_for_copy(field: Field[Any, Any], connection: BaseDatabaseWrapper) -> tuple[type, ...]:
    """More types passed as they are where insert_values writes with COPY (PostgreSQL):
    an IP address as text, which PostgreSQL's inet reads and writes in its canonical
    form, as Django's preparation would (it parsed every address of a flush again)."""
    if connection.vendor == "postgresql" and isinstance(field, models.GenericIPAddressField):
        return (str,)
    return ()


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
