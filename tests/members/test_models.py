from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from groundswell.members.models import ConsentEvent, Person, Subscription, SubscriptionStatus
from tests.cast import default_list, make_bob, make_org, make_person


@pytest.fixture
def supporters(db):
    return default_list(make_org())


@pytest.fixture
def bob(db):
    return make_bob()


@pytest.fixture
def subscription(bob, supporters):
    subscription = Subscription.objects.create(
        person=bob, mailing_list=supporters, status=SubscriptionStatus.SUBSCRIBED
    )
    ConsentEvent.objects.create(
        subscription=subscription, kind="subscribed", source="petition:x", wording="Yes please"
    )
    return subscription


class TestPerson:
    def test_two_people_cannot_share_a_normalised_address(self, bob):
        with pytest.raises(IntegrityError), transaction.atomic():
            Person.objects.create(email="BOB@example.org", email_normalised="bob@example.org")
        assert Person.objects.count() == 1

    def test_the_same_address_typed_differently_is_kept_as_typed(self, bob):
        bob.email = "Bob@Example.ORG"
        bob.save()
        bob.refresh_from_db()
        assert (bob.email, bob.email_normalised) == ("Bob@Example.ORG", "bob@example.org")

    def test_its_name_shows_the_person_and_their_address(self, bob):
        assert str(bob) == "Bob Member <bob@example.org>"
        assert str(make_person("c@example.net")) == "c@example.net"

    def test_newest_people_come_first(self, bob):
        charlie = make_person("charlie@example.net")
        assert list(Person.objects.all()) == [charlie, bob]


class TestSubscription:
    def test_a_person_has_one_subscription_per_list(self, subscription):
        with pytest.raises(IntegrityError), transaction.atomic():
            Subscription.objects.create(
                person=subscription.person,
                mailing_list=subscription.mailing_list,
                status=SubscriptionStatus.UNSUBSCRIBED,
            )

    def test_it_says_whether_the_person_is_subscribed(self, subscription):
        assert subscription.is_subscribed
        subscription.status = SubscriptionStatus.BOUNCED
        assert not subscription.is_subscribed

    def test_a_list_with_subscribers_cannot_be_deleted(self, subscription):
        from django.db.models import ProtectedError

        with pytest.raises(ProtectedError):
            subscription.mailing_list.delete()


class TestConsentEvent:
    def test_new_events_are_added_to_the_history_in_order(self, subscription):
        ConsentEvent.objects.create(subscription=subscription, kind="unsubscribed", source="x")
        kinds = list(subscription.events.values_list("kind", flat=True))
        assert kinds == ["subscribed", "unsubscribed"]

    def test_an_event_cannot_be_changed(self, subscription):
        event = subscription.events.get()
        event.wording = "Something else"
        with pytest.raises(ValueError, match="append-only"):
            event.save()
        event.refresh_from_db()
        assert event.wording == "Yes please"

    def test_an_event_cannot_be_deleted(self, subscription):
        event = subscription.events.get()
        with pytest.raises(ValueError, match="append-only"):
            event.delete()
        assert ConsentEvent.objects.filter(pk=event.pk).exists()

    def test_it_keeps_the_ip_address_and_wording(self, subscription):
        event = ConsentEvent.objects.create(
            subscription=subscription,
            kind="subscribed",
            source="petition:x",
            ip_address="2001:db8::1",
            wording="Yes, email me",
        )
        event.refresh_from_db()
        assert (event.ip_address, event.wording) == ("2001:db8::1", "Yes, email me")
