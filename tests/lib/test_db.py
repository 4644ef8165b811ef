"""lib/db.py: the lean bulk insert, hand-written look-ups, and the writers' connection."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max

from groundswell.lib.db import (
    bind_on_server,
    check_connection_after_idle,
    column_in,
    column_of,
    each_in,
    insert_all,
    insert_values,
    select_where,
    select_where_with,
)
from groundswell.lib.turns import turn_if_free, writers_take_turns, writers_turn
from groundswell.members.models import ConsentEvent, Person, Subscription
from groundswell.petitions.actions.signing import (
    SignatureDetails,
    do_sign_petitions,
    prepare_signature,
)
from groundswell.petitions.models import Signature
from groundswell.tracking.models import Click
from tests.cast import make_org, make_petition
from tests.tracking.cast import make_cast


@pytest.mark.django_db
class TestInsertAll:
    def test_it_stores_each_object_as_save_would_and_gives_it_its_key(self) -> None:
        people = [
            Person(email=f"P{i}@Example.org", email_normalised=f"p{i}@example.org", first_name="Ü")
            for i in range(600)  # more than one statement's worth on SQLite
        ]
        before = timezone.now()

        insert_all(people)

        stored = {p.pk: p for p in Person.objects.all()}
        assert len(stored) == 600
        for person in people:
            again = stored[person.pk]
            assert (again.email, again.email_normalised, again.first_name) == (
                person.email,
                person.email_normalised,
                "Ü",
            )
            assert again.created_at >= before  # auto_now_add filled in as on save
            assert not person._state.adding

    def test_it_keeps_nulls_booleans_and_foreign_keys(self) -> None:
        petition = make_petition(sponsors=[make_org("Open Press", "open-press")])
        person = Person.objects.create(email="a@example.org", email_normalised="a@example.org")
        signatures = [
            Signature(petition=petition, person=person, show_name=True, link_number=3),
            Signature(petition=make_petition("b", sponsors=[]), person=None, show_name=False),
        ]

        insert_all(signatures)

        first, second = (Signature.objects.get(pk=s.pk) for s in signatures)
        assert (first.person_id, first.show_name, first.link_number) == (person.pk, True, 3)
        assert (second.person_id, second.show_name, second.link_number) == (None, False, None)
        assert first.status == "valid"

    def test_it_gives_every_row_of_a_call_the_same_insertion_time_and_sets_it_on_each(
        self,
    ) -> None:
        people = [
            Person(email=f"p{i}@example.org", email_normalised=f"p{i}@example.org")
            for i in range(3)
        ]

        insert_all(people)

        assert len({p.created_at for p in people}) == 1
        stored = Person.objects.order_by("pk")
        assert [p.created_at for p in stored] == [people[0].created_at] * 3

    def test_it_passes_values_of_other_types_through_their_field(self) -> None:
        # A str country code and an int-like string: the plan passes a str as it is and
        # prepares anything else as Django would.
        person = Person(email="q@example.org", email_normalised="q@example.org", first_name=7)  # type: ignore[misc]

        insert_all([person])

        assert Person.objects.get(pk=person.pk).first_name == "7"

    def test_it_inserts_many_rows_in_one_statement_of_the_same_text_on_postgresql(
        self,
    ) -> None:
        def batch(n: int, tag: str) -> list[Person]:
            return [
                Person(email=f"{tag}{i}@example.org", email_normalised=f"{tag}{i}@example.org")
                for i in range(n)
            ]

        with CaptureQueriesContext(connection) as three:
            insert_all(batch(3, "a"))
        with CaptureQueriesContext(connection) as five:
            insert_all(batch(5, "b"))

        assert len(three.captured_queries) == len(five.captured_queries) == 1
        if connection.vendor == "postgresql":
            assert "UNNEST" in three.captured_queries[0]["sql"]
        assert Person.objects.count() == 8

    def test_it_keeps_a_key_the_object_brings_itself(self) -> None:
        task = DBTaskResult(
            args_kwargs={"args": [1], "kwargs": {}},
            task_path="groundswell.petitions.tasks.send_thank_you_email",
            queue_name="default",
            run_after=get_date_max(),
            backend_name="default",
        )

        insert_all([task])

        stored = DBTaskResult.objects.get(pk=task.pk)
        assert stored.args_kwargs == {"args": [1], "kwargs": {}}


@pytest.mark.django_db
class TestInsertValues:
    FIELDS = ("mailing_id", "link_number", "person_id", "clicked_at", "ip_address")
    FIELDS += ("user_agent", "is_machine", "machine_reason")

    def test_it_stores_each_row_as_the_orm_would(self) -> None:
        cast = make_cast()
        at = timezone.now()
        # Text that a COPY must escape, a missing person, both kinds of address, and
        # more rows than one statement of SQLite holds.
        awkward = "tab\there, new\nline, back\\slash \\N, ü, «quotes» 'and' \"more\""
        rows = [
            (cast.mailing.pk, 1, cast.bob.pk, at, "203.0.113.7", awkward, False, ""),
            (cast.mailing.pk, 2, None, at, "2001:db8::1", "", True, "scanner"),
            (cast.mailing.pk, 3, cast.bob.pk, at, None, "x", False, ""),
        ] + [(cast.mailing.pk, 4, None, at, None, f"n{i}", False, "") for i in range(600)]

        insert_values(Click, self.FIELDS, rows)

        stored = list(Click.objects.order_by("link_number", "user_agent").values_list(*self.FIELDS))
        assert len(stored) == 603
        assert stored[:3] == rows[:3]
        assert sorted(stored[3:], key=lambda r: r[5]) == sorted(rows[3:], key=lambda r: r[5])

    @pytest.mark.parametrize(
        "written", ["2001:0DB8:0000:0000:0000:0000:0000:0001", "::ffff:192.0.2.9", "0::1"]
    )
    def test_it_stores_an_address_in_any_written_form_as_the_orm_does(self, written) -> None:
        cast = make_cast()
        at = timezone.now()
        Click.objects.create(mailing=cast.mailing, link_number=1, clicked_at=at, ip_address=written)

        insert_values(Click, self.FIELDS, [(cast.mailing.pk, 2, None, at, written, "", False, "")])

        by_orm, by_values = Click.objects.order_by("link_number").values_list(
            "ip_address", flat=True
        )
        assert by_values == by_orm

    def test_it_wants_a_value_for_every_field_but_the_key(self) -> None:
        cast = make_cast()

        with pytest.raises(ValueError, match=r"a value for each field of tracking\.Click"):
            insert_values(
                Click, self.FIELDS[:-1], [(cast.mailing.pk, 1, None, None, None, "", False)]
            )

    def test_it_prepares_values_of_other_types_through_their_field(self) -> None:
        cast = make_cast()
        at = timezone.now()

        insert_values(Click, self.FIELDS, [(cast.mailing.pk, 1, None, at, None, 7, False, "")])

        assert Click.objects.get().user_agent == "7"


def test_column_of_names_a_field_s_column_with_its_table_both_quoted() -> None:
    quote = connection.ops.quote_name
    assert column_of(Click, "person") == f"{quote('tracking_click')}.{quote('person_id')}"
    assert column_of(Click, "person_id") == column_of(Click, "person")


@pytest.mark.django_db
def test_each_in_matches_rows_whose_every_named_field_is_among_its_values() -> None:
    cast = make_cast()
    at = timezone.now()
    for number, person in ((1, cast.bob), (2, cast.bob), (1, cast.dora), (3, None)):
        Click.objects.create(mailing=cast.mailing, link_number=number, person=person, clicked_at=at)

    def found(**among: Any) -> list[tuple[int, int | None]]:
        return sorted(
            Click.objects.filter(each_in(Click, **among)).values_list("link_number", "person_id"),
            key=str,
        )

    assert found(person=[cast.bob.pk], link_number=[1, 3]) == [(1, cast.bob.pk)]
    assert found(mailing=[cast.mailing.pk], link_number=[1]) == sorted(
        [(1, cast.bob.pk), (1, cast.dora.pk)], key=str
    )
    assert found(person=[]) == []


@pytest.mark.django_db(transaction=True)
def test_a_writer_checks_its_connection_only_after_a_pause() -> None:
    connection.ensure_connection()
    connection.close_at = time.monotonic() - 1  # past CONN_MAX_AGE

    check_connection_after_idle(time.monotonic())  # a batch just ended: no check
    assert connection.connection is not None

    check_connection_after_idle(time.monotonic() - 5)  # idle for 5 s
    assert connection.connection is None


@pytest.mark.django_db
class TestColumnIn:
    def _emails(self, values: list[str]) -> tuple[set[str], str]:
        clause, params = column_in(connection.ops.quote_name("email_normalised"), values)
        with CaptureQueriesContext(connection) as queries, connection.cursor() as cursor:
            cursor.execute(f"SELECT email_normalised FROM members_person WHERE {clause}", params)  # noqa: S608
            found = {email for (email,) in cursor.fetchall()}
        return found, queries.captured_queries[0]["sql"]

    def test_it_matches_exactly_the_values_given(self) -> None:
        for name in ("ann", "bo", "cy"):
            Person.objects.create(
                email=f"{name}@example.org", email_normalised=f"{name}@example.org"
            )

        found, _ = self._emails(["ann@example.org", "cy@example.org", "nobody@example.org"])

        assert found == {"ann@example.org", "cy@example.org"}

    def test_it_matches_nothing_for_no_values(self) -> None:
        Person.objects.create(email="ann@example.org", email_normalised="ann@example.org")

        assert self._emails([])[0] == set()

    def test_it_is_one_statement_text_for_any_number_of_values_on_postgresql(self) -> None:
        if connection.vendor != "postgresql":
            pytest.skip("SQLite has no arrays: there it is IN (…)")
        _, two = self._emails(["a@example.org", "b@example.org"])
        _, five = self._emails([f"{i}@example.org" for i in range(5)])

        # The captured text has the array inlined; the statement psycopg sends has %s.
        assert "= ANY(" in two and "= ANY(" in five


@pytest.mark.django_db(transaction=True)
def test_a_connection_bound_on_the_server_signs_as_any_other_and_only_in_its_thread() -> None:
    petition = make_petition(sponsors=[make_org("Open Press", "open-press")])
    sponsor_lists = petition.sponsors_with_lists()

    def work(outcome: dict[str, Any]) -> None:
        for attempt in range(2):  # the second time, on statements already prepared
            pending = [
                prepare_signature(
                    petition,
                    SignatureDetails(
                        email=f"signer{attempt}-{i}@example.org",
                        first_name="Ann",
                        last_name="Lee",
                        consents=frozenset({"open-press"}),
                    ),
                    sponsor_lists=sponsor_lists,
                )
                for i in range(3)
            ]
            results = do_sign_petitions([*pending, pending[0]])
            outcome.setdefault("repeats", []).append([r.already_signed for r in results])
        with connection.cursor() as cursor:
            outcome["cursor"] = type(cursor.cursor).__name__

    outcome = _in_a_thread_bound_on_the_server(work)

    assert outcome["repeats"] == [[False, False, False, True]] * 2
    assert Signature.objects.filter(petition=petition).count() == 6
    with connection.cursor() as cursor:
        mine = type(cursor.cursor).__name__
    if connection.vendor == "postgresql":
        assert outcome["cursor"] == "ServerBindingCursor"
        assert mine != "ServerBindingCursor"  # this thread's connection is as it was
    else:
        assert outcome["cursor"] == mine


def _rows_to_insert(petition: Any, people: list[Person], tag: str) -> tuple[list, list]:
    """Signatures and consent events with every kind of value the writer sends: nulls
    beside values in one column, a column of nulls only, booleans, text beyond ASCII
    and with the characters an array's text form must escape, IPv4 and IPv6."""
    awkward = ["", 'Ü "quoted" {braces}, commas', "back\\slash", "NULL", "line\nbreak"]
    signatures = [
        Signature(
            petition=petition,
            person=person,
            comment=awkward[i % len(awkward)],
            show_name=i % 2 == 0,
            source=f"{tag}-{i}",
            link_number=i if i % 3 else None,
            utm_source=awkward[(i + 1) % len(awkward)],
        )
        for i, person in enumerate(people)
    ]
    subscription = Subscription.objects.get(person=people[0])
    events = [
        ConsentEvent(
            subscription=subscription,
            kind="subscribed",
            source=f"{tag}-{i}",
            ip_address=[None, "192.0.2.7", "2001:db8::1"][i % 3],
            wording=awkward[i % len(awkward)],
        )
        for i in range(len(people))
    ]
    return signatures, events


def _stored(objs: list, *exclude: str) -> list[dict[str, Any]]:
    model = type(objs[0])
    rows = model.objects.filter(pk__in=[o.pk for o in objs]).order_by("pk").values()
    return [
        {k: v for k, v in row.items() if k not in ("id", "created_at", *exclude)} for row in rows
    ]


@pytest.mark.django_db(transaction=True)
def test_a_connection_bound_on_the_server_stores_the_same_rows_and_finds_the_same() -> None:
    # There arrays travel in binary (psycopg's text form of them was most of the
    # writer's cost of sending values); the rows stored must not change.
    petition = make_petition(sponsors=[make_org("Open Press", "open-press")])
    people = [
        Person.objects.create(email=f"p{i}@example.org", email_normalised=f"p{i}@example.org")
        for i in range(7)
    ]
    mailing_list = petition.sponsors_with_lists()[0][1]
    Subscription.objects.create(person=people[0], mailing_list=mailing_list)
    signatures, events = _rows_to_insert(petition, people, "tag")
    insert_all(signatures)
    insert_all(events)
    # Written as any other connection writes them; then the same again, bound on the
    # server (a signature once per person: these go first).
    expected_signatures = _stored(signatures)
    Signature.objects.all().delete()

    def work(outcome: dict[str, Any]) -> None:
        outcome["rows"] = _rows_to_insert(petition, people, "tag")
        for objs in outcome["rows"]:
            insert_all(objs)
        clause, params = column_in(
            connection.ops.quote_name("email_normalised"),
            ["p1@example.org", "p4@example.org", "nobody@example.org"],
        )
        outcome["found"] = sorted(p.email for p in select_where(Person, clause, params))

    outcome = _in_a_thread_bound_on_the_server(work)

    bound_signatures, bound_events = outcome["rows"]
    assert _stored(bound_signatures) == expected_signatures
    assert _stored(bound_events) == _stored(events)
    assert outcome["found"] == ["p1@example.org", "p4@example.org"]


@pytest.mark.django_db
def test_select_where_gives_what_the_orm_gives() -> None:
    for name in ("ann", "bo", "cy"):
        Person.objects.create(
            email=f"{name}@Example.org",
            email_normalised=f"{name}@example.org",
            first_name=name.title(),
            country="GB",
        )
    clause, params = column_in(
        connection.ops.quote_name("email_normalised"), ["ann@example.org", "cy@example.org"]
    )

    found = sorted(select_where(Person, clause, params), key=lambda p: p.pk)

    expected = list(
        Person.objects.filter(email_normalised__in=["ann@example.org", "cy@example.org"]).order_by(
            "pk"
        )
    )
    assert [p.__dict__ | {"_state": None} for p in found] == [
        p.__dict__ | {"_state": None} for p in expected
    ]
    # Time zones read as the ORM reads them (SQLite stores them naive).
    assert all(timezone.is_aware(p.created_at) for p in found)
    assert all(not p._state.adding and p._state.db == "default" for p in found)


@pytest.mark.django_db
def test_select_where_with_only_reads_those_fields_and_the_rest_when_used() -> None:
    person = Person.objects.create(
        email="ann@example.org", email_normalised="ann@example.org", first_name="Ann"
    )
    where = f"{connection.ops.quote_name('id')} = %s"

    with CaptureQueriesContext(connection) as read:
        ((found, extra),) = select_where_with(
            Person, ["1"], where, [person.pk], only=("first_name",)
        )
        assert (found.pk, found.first_name, tuple(extra)) == (person.pk, "Ann", (1,))
    assert len(read.captured_queries) == 1
    assert "email" not in read.captured_queries[0]["sql"]

    with CaptureQueriesContext(connection) as later:
        assert found.email == "ann@example.org"
    assert len(later.captured_queries) == 1


def _in_a_thread_bound_on_the_server(work: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """Run work in a thread of its own whose connection binds on the server, as the
    signature writer's does; what it put in the dict it is given."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            bind_on_server()
            work(outcome)
        except Exception as error:  # reported below
            outcome["error"] = error
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert "error" not in outcome, outcome.get("error")
    return outcome


def test_behind_a_transaction_pooler_a_writer_keeps_nothing_prepared(settings: Any) -> None:
    settings.DATABASE_TRANSACTION_POOLING = True
    options = dict(connection.settings_dict.get("OPTIONS", {}))

    bind_on_server()

    assert connection.settings_dict.get("OPTIONS", {}) == options


def _wait_for(predicate: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="turns are taken on SQLite only")
@pytest.mark.django_db(transaction=True)
class TestWritersTurn:
    """writers_take_turns between the threads of one process (flock alone does not
    tell them apart), in the order they asked, ahead of the reads' optional writes."""

    def _queue(self, name: str, order: list[str], inside: list[int], go: threading.Event):
        def run() -> None:
            with writers_take_turns():
                inside.append(1)
                order.append(name)
                assert len(inside) == 1, "two threads had the turn at once"
                go.wait(10)
                inside.pop()

        thread = threading.Thread(target=run)
        thread.start()
        return thread

    def test_it_gives_one_thread_the_turn_at_a_time_in_the_order_they_asked(self) -> None:
        turn = writers_turn(connection)
        order: list[str] = []
        inside: list[int] = []
        go = threading.Event()
        first = self._queue("first", order, inside, go)
        _wait_for(lambda: order == ["first"])
        waiting = []
        for name in ("second", "third", "fourth"):
            asked = turn.next_ticket
            waiting.append(self._queue(name, order, inside, go))
            _wait_for(lambda asked=asked: turn.next_ticket > asked)
        assert order == ["first"]
        go.set()
        for thread in [first, *waiting]:
            thread.join(10)
        assert order == ["first", "second", "third", "fourth"]

    def test_a_reads_optional_write_gives_way_to_a_writer_waiting_its_turn(self) -> None:
        turn = writers_turn(connection)
        order: list[str] = []
        inside: list[int] = []
        go = threading.Event()
        holder = self._queue("holder", order, inside, go)
        _wait_for(lambda: order == ["holder"])
        asked = turn.next_ticket
        writer = self._queue("writer", order, inside, go)
        _wait_for(lambda: turn.next_ticket > asked)
        free: list[bool] = []

        def read() -> None:
            with turn_if_free() as is_free:
                free.append(is_free)

        reader = threading.Thread(target=read)
        reader.start()
        reader.join(10)
        go.set()
        holder.join(10)
        writer.join(10)
        assert free == [False]
        with turn_if_free() as is_free:
            assert is_free

    def test_a_thread_may_take_the_turn_inside_its_own(self) -> None:
        with writers_take_turns(), writers_take_turns():
            pass
        with writers_take_turns(), turn_if_free() as is_free:
            assert is_free
        assert writers_turn(connection).owner is None
