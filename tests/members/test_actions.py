from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from groundswell.members.actions.consent import do_subscribe, do_unsubscribe
from groundswell.members.actions.people import (
    PersonDetails,
    do_find_or_create_people,
    do_find_or_create_person,
)
from groundswell.members.models import ConsentEvent, Person, Subscription, SubscriptionStatus
from tests.cast import default_list, make_list, make_org, make_person

WORDING = "Yes, Friends of the Earthworm may email me."


@pytest.fixture
def supporters(db):
    return default_list(make_org())


@pytest.fixture
def bob(db):
    return make_person("Bob@Example.org", "Bob", source="petition:worms")


class TestFindOrCreatePerson:
    def test_it_creates_a_person_with_a_normalised_address(self, db):
        person, created = do_find_or_create_person(
            PersonDetails(email="  Bob@Bücher.Example ", first_name=" Bob ", country="gb"),
            source="petition:worms",
        )
        assert created
        assert person.email == "Bob@Bücher.Example"
        assert person.email_normalised == "bob@xn--bcher-kva.example"
        assert (person.first_name, person.country, person.source) == ("Bob", "GB", "petition:worms")

    def test_it_finds_the_same_person_in_any_case_or_spacing(self, bob):
        again, created = do_find_or_create_person(
            PersonDetails(email=" BOB@example.ORG\t"), source="facebook"
        )
        assert not created
        assert again.pk == bob.pk
        assert again.source == "petition:worms"  # how we first met them stays
        assert Person.objects.count() == 1

    def test_it_fills_in_blanks_but_never_overwrites(self, bob):
        person, _ = do_find_or_create_person(
            PersonDetails(email="bob@example.org", first_name="Mallory", last_name="Member"),
            source="x",
        )
        person.refresh_from_db()
        assert (person.first_name, person.last_name) == ("Bob", "Member")

    def test_it_refuses_an_address_that_is_not_one(self, db):
        with pytest.raises(ValidationError):
            do_find_or_create_person(PersonDetails(email="bob@"), source="x")
        assert not Person.objects.exists()


class TestFindOrCreatePeople:
    def test_it_finds_known_people_whole_and_creates_the_rest_once(self, bob):
        stored = Person.objects.get(pk=bob.pk)
        wanted = [
            (PersonDetails(email="BOB@example.org"), "x"),
            (PersonDetails(email="ann@example.org", first_name="Ann"), "petition:worms"),
            (PersonDetails(email="Ann@Example.org"), "y"),
        ]

        found = do_find_or_create_people(wanted)

        (known, known_new), (ann, ann_new), (ann_again, again_new) = found
        assert (known.pk, known_new, ann_new, again_new) == (bob.pk, False, True, False)
        assert ann_again.pk == ann.pk
        # Every field as the ORM reads it, time zone included.
        assert (known.email, known.first_name, known.created_at, known.updated_at) == (
            stored.email,
            stored.first_name,
            stored.created_at,
            stored.updated_at,
        )
        assert known.created_at.tzinfo is not None
        assert Person.objects.count() == 2

    def test_it_takes_the_addresses_normalised_by_the_caller(self, db):
        [(person, created)] = do_find_or_create_people(
            [(PersonDetails(email=" Cy@Example.org "), "x")], normalised_emails=["cy@example.org"]
        )
        assert created
        assert person.email_normalised == "cy@example.org"


class TestSubscribe:
    def test_it_subscribes_with_the_consent_recorded(self, bob, supporters):
        subscription = do_subscribe(
            bob, supporters, source="petition:worms", wording=WORDING, ip_address="192.0.2.7"
        )
        assert subscription.status == SubscriptionStatus.SUBSCRIBED
        event = subscription.events.get()
        assert (event.kind, event.source, event.wording, event.ip_address) == (
            "subscribed",
            "petition:worms",
            WORDING,
            "192.0.2.7",
        )

    def test_it_wants_the_wording_the_person_saw(self, bob, supporters):
        with pytest.raises(ValueError, match="wording"):
            do_subscribe(bob, supporters, source="x", wording="  ")
        assert not Subscription.objects.exists()

    def test_subscribing_again_adds_to_the_history(self, bob, supporters):
        do_subscribe(bob, supporters, source="one", wording=WORDING)
        subscription = do_subscribe(bob, supporters, source="two", wording=WORDING)
        assert Subscription.objects.count() == 1
        assert list(subscription.events.values_list("source", flat=True)) == ["one", "two"]

    def test_nothing_is_recorded_when_the_surrounding_write_fails(self, bob, supporters):
        with pytest.raises(RuntimeError), transaction.atomic():
            do_subscribe(bob, supporters, source="x", wording=WORDING)
            raise RuntimeError("the signature could not be saved")
        assert not Subscription.objects.exists()
        assert not ConsentEvent.objects.exists()


class TestUnsubscribe:
    def test_it_changes_the_status_and_keeps_the_history(self, bob, supporters):
        do_subscribe(bob, supporters, source="petition:worms", wording=WORDING)
        subscription = do_unsubscribe(bob, supporters, source="link", ip_address="192.0.2.9")
        subscription.refresh_from_db()
        assert subscription.status == SubscriptionStatus.UNSUBSCRIBED
        history = list(subscription.events.values_list("kind", "source"))
        assert history == [("subscribed", "petition:worms"), ("unsubscribed", "link")]

    def test_it_leaves_other_lists_alone(self, bob, supporters):
        news = make_list(supporters.organisation, "news")
        do_subscribe(bob, supporters, source="x", wording=WORDING)
        do_subscribe(bob, news, source="x", wording=WORDING)
        do_unsubscribe(bob, news, source="link")
        statuses = dict(bob.subscriptions.values_list("mailing_list__slug", "status"))
        assert statuses == {"supporters": "subscribed", "news": "unsubscribed"}


@pytest.mark.django_db(transaction=True)
class TestFindOrCreatePersonConcurrently:
    def test_ten_at_once_with_one_address_make_one_person(self):
        spellings = [
            f"{' ' * (n % 3)}{'ALICE' if n % 2 else 'alice'}@Example.{'ORG' if n % 3 else 'org'} "
            for n in range(10)
        ]
        barrier = threading.Barrier(len(spellings))
        results: list[tuple[int, bool]] = []
        errors: list[BaseException] = []
        lock = threading.Lock()

        def sign(email: str) -> None:
            try:
                barrier.wait(timeout=10)
                person, created = do_find_or_create_person(
                    PersonDetails(email=email, first_name="Alice"), source="petition:worms"
                )
                with lock:
                    results.append((person.pk, created))
            except BaseException as error:
                with lock:
                    errors.append(error)
            finally:
                connection.close()

        threads = [threading.Thread(target=sign, args=(email,)) for email in spellings]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

        assert errors == []
        assert len(results) == 10
        assert Person.objects.count() == 1
        person = Person.objects.get()
        assert person.email_normalised == "alice@example.org"
        assert {pk for pk, _ in results} == {person.pk}
        assert [created for _, created in results].count(True) == 1
