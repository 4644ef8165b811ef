"""lib/prepared.fetch_prepared: hot reads prepared once per connection on PostgreSQL, and a
connection kept from an earlier request checked by the read itself."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from django.db import DataError, IntegrityError, OperationalError, connection, transaction
from django.test.utils import CaptureQueriesContext

from groundswell.lib.prepared import fetch_prepared
from groundswell.members.models import Person

ON_POSTGRESQL = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="statements are prepared on PostgreSQL only"
)
TABLE = Person._meta.db_table
BY_PK = f'SELECT "first_name" FROM "{TABLE}" WHERE "id" = %s'  # noqa: S608


def _prepared_statements() -> list[tuple[str, int]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements")
        return list(cursor.fetchall())


@pytest.fixture
def new_connection(transactional_db: None) -> None:
    """A connection of this test's own: statements prepared by earlier tests on the
    same connection are not on it."""
    connection.close()


def _person(name: str) -> Person:
    return Person.objects.create(
        email=f"{name}@example.org", email_normalised=f"{name}@example.org", first_name=name
    )


@pytest.mark.django_db
def test_it_gives_the_rows_of_the_read() -> None:
    ann, bo = _person("Ann"), _person("Bo")

    assert fetch_prepared(BY_PK, [ann.pk]) == [("Ann",)]
    assert fetch_prepared(BY_PK, [bo.pk]) == [("Bo",)]
    assert fetch_prepared(BY_PK, [bo.pk + 1000]) == []


@ON_POSTGRESQL
@pytest.mark.usefixtures("new_connection")
def test_it_prepares_the_statement_once_and_runs_it_again_and_again() -> None:
    people = [_person(f"P{i}") for i in range(5)]

    for person in people:
        fetch_prepared(BY_PK, [person.pk])

    ours = [(text, runs) for text, runs in _prepared_statements() if TABLE in text]
    assert len(ours) == 1, ours
    assert ours[0][1] == 5


@ON_POSTGRESQL
@pytest.mark.usefixtures("new_connection")
def test_it_leaves_djangos_own_statements_unprepared() -> None:
    ann = _person("Ann")
    fetch_prepared(BY_PK, [ann.pk])

    for _ in range(10):
        list(Person.objects.filter(pk=ann.pk))

    assert [text for text, _runs in _prepared_statements() if TABLE in text] == [
        BY_PK.replace("%s", "$1")
    ]


@pytest.mark.django_db
def test_it_shows_in_the_queries_django_logs() -> None:
    ann = _person("Ann")

    with CaptureQueriesContext(connection) as queries:
        fetch_prepared(BY_PK, [ann.pk])

    assert len(queries) == 1
    assert '"first_name"' in queries[0]["sql"]
    assert str(ann.pk) in queries[0]["sql"]


@pytest.mark.django_db
def test_it_goes_through_the_connections_execute_wrappers() -> None:
    ann = _person("Ann")
    seen: list[str] = []

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        seen.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        assert fetch_prepared(BY_PK, [ann.pk]) == [("Ann",)]

    assert seen == [BY_PK]


@ON_POSTGRESQL
@pytest.mark.django_db(transaction=True)
def test_it_reads_again_on_a_new_connection_when_the_kept_one_died() -> None:
    ann = _person("Ann")
    fetch_prepared(BY_PK, [ann.pk])
    kept = connection.connection
    backend = kept.info.backend_pid
    # The server ends the connection (a restart, an administrator), between requests.
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [backend])

    assert fetch_prepared(BY_PK, [ann.pk]) == [("Ann",)]

    assert connection.connection is not kept
    assert connection.connection.info.backend_pid != backend


@ON_POSTGRESQL
@pytest.mark.django_db(transaction=True)
def test_a_read_on_a_new_connection_that_fails_says_so() -> None:
    connection.close()
    settings_dict = connection.settings_dict
    connection.settings_dict = {**settings_dict, "PORT": "1"}  # nothing listens there
    try:
        with pytest.raises(OperationalError):
            fetch_prepared(BY_PK, [1])
    finally:
        connection.settings_dict = settings_dict
        connection.close()


@ON_POSTGRESQL
@pytest.mark.django_db(transaction=True)
def test_a_kept_connection_that_answers_needs_no_health_check_after_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ann = _person("Ann")
    connection.close_if_unusable_or_obsolete()  # as at the start of a request
    assert connection.health_check_enabled
    checks: list[bool] = []
    is_usable = connection.is_usable

    def counted() -> bool:
        checks.append(is_usable())
        return checks[-1]

    monkeypatch.setattr(connection, "is_usable", counted)

    fetch_prepared(BY_PK, [ann.pk])
    assert list(Person.objects.filter(pk=ann.pk)) == [ann]

    assert checks == []
    # Without the read first, Django checks the kept connection before its statement.
    connection.close_if_unusable_or_obsolete()
    assert list(Person.objects.filter(pk=ann.pk)) == [ann]
    assert checks == [True]


@ON_POSTGRESQL
@pytest.mark.usefixtures("new_connection")
def test_behind_a_transaction_pooler_nothing_is_prepared(settings: Any) -> None:
    settings.DATABASE_TRANSACTION_POOLING = True
    ann = _person("Ann")

    for _ in range(3):
        assert fetch_prepared(BY_PK, [ann.pk]) == [("Ann",)]

    assert [text for text, _runs in _prepared_statements() if TABLE in text] == []


BY_EMAILS = f'SELECT "first_name" FROM "{TABLE}" WHERE "email_normalised" = ANY(%s)'  # noqa: S608


@ON_POSTGRESQL
@pytest.mark.django_db(transaction=True)
def test_its_statements_outlive_a_rollback_inside_a_transaction() -> None:
    # psycopg deallocates every statement of a connection after a rollback once it
    # has prepared one itself: a read after a savepoint's rollback then failed and
    # took the signer's transaction with it.
    ann = _person("Ann")
    with transaction.atomic():
        assert fetch_prepared(BY_PK, [ann.pk]) == [("Ann",)]
        assert fetch_prepared(BY_EMAILS, [["Ann@example.org", "x@example.org"]]) == [("Ann",)]
        with pytest.raises(IntegrityError), transaction.atomic():
            _person("Ann")
        assert fetch_prepared(BY_PK, [ann.pk]) == [("Ann",)]
        assert fetch_prepared(BY_EMAILS, [["Ann@example.org"]]) == [("Ann",)]


@ON_POSTGRESQL
@pytest.mark.django_db
def test_it_passes_nulls_booleans_arrays_and_times_as_psycopg_would() -> None:
    at = Person.objects.create(email="a@example.org", email_normalised="a@example.org").created_at
    sql = "SELECT %s::int IS NULL, NOT %s::boolean, cardinality(%s::text[]), %s::timestamptz"

    assert fetch_prepared(sql, [None, True, ['a "b"', "c,d", "{e}"], at]) == [(True, False, 3, at)]


@ON_POSTGRESQL
@pytest.mark.django_db
def test_text_with_a_nul_is_refused_not_cut_short() -> None:
    _person("Ann")

    with pytest.raises(DataError):
        fetch_prepared(f'SELECT 1 FROM "{TABLE}" WHERE "first_name" = %s', ["Ann\x00 or not"])  # noqa: S608
