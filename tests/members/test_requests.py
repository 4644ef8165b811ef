"""What a member asks for from an email's link (unsubscribe, a privacy link, a new address)
is one action: one transaction, and its email or its news sent only once committed."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.db import transaction

from groundswell.members.actions.consent import do_subscribe, do_unsubscribe_from_link
from groundswell.members.actions.people import PersonDetails, do_find_or_create_person
from groundswell.members.actions.privacy import do_request_privacy_link
from groundswell.members.actions.profile import do_update_own_profile
from groundswell.members.models import Person, SubscriptionStatus
from groundswell.members.signals import person_unsubscribed
from tests.cast import make_org

pytestmark = pytest.mark.django_db


@pytest.fixture
def bob(db: Any) -> Person:
    person, _ = do_find_or_create_person(
        PersonDetails(email="Bob@Example.org", first_name="Bob"), source="test"
    )
    org = make_org("Open Press", "open-press")
    do_subscribe(person, org.default_list, source="test", wording="Yes, email me.")
    return person


def statuses(person: Person) -> set[str]:
    return set(person.subscriptions.values_list("status", flat=True))


class TestUnsubscribeFromLink:
    def test_it_tells_who_left_from_which_mailing(self, bob: Person):
        heard: list[tuple[Person, int]] = []

        def listen(sender: Any, *, person: Person, mailing_id: int, **_: Any) -> None:
            heard.append((person, mailing_id))

        person_unsubscribed.connect(listen)
        try:
            do_unsubscribe_from_link(bob, mailing_id=7, source="unsubscribe-page")
        finally:
            person_unsubscribed.disconnect(listen)
        assert heard == [(bob, 7)]
        assert statuses(bob) == {SubscriptionStatus.UNSUBSCRIBED}

    def test_the_news_is_part_of_the_unsubscribe_s_transaction(self, bob: Person):
        def fail(sender: Any, **_: Any) -> None:
            raise RuntimeError("the listener failed")

        person_unsubscribed.connect(fail)
        try:
            with pytest.raises(RuntimeError):
                do_unsubscribe_from_link(bob, mailing_id=7, source="unsubscribe-page")
        finally:
            person_unsubscribed.disconnect(fail)
        # Had it been sent after the commit, the unsubscribe would have stayed.
        assert statuses(bob) == {SubscriptionStatus.SUBSCRIBED}


class TestPrivacyLink:
    def test_it_emails_the_link_once_committed(
        self, bob: Person, django_capture_on_commit_callbacks: Any
    ):
        with django_capture_on_commit_callbacks(execute=True):
            do_request_privacy_link("bob@example.org", "export")
        assert [m.to for m in mail.outbox] == [["Bob@Example.org"]]

    def test_a_rolled_back_request_sends_nothing(
        self, bob: Person, django_capture_on_commit_callbacks: Any
    ):
        with (
            django_capture_on_commit_callbacks(execute=True),
            pytest.raises(RuntimeError),
            transaction.atomic(),
        ):
            do_request_privacy_link("bob@example.org", "erase")
            raise RuntimeError
        assert mail.outbox == []

    def test_an_unknown_address_gets_nothing(self, db: Any, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            do_request_privacy_link("nobody@example.org", "export")
        assert (callbacks, mail.outbox) == ([], [])


class TestOwnProfile:
    def test_it_changes_the_details_and_asks_the_new_address_to_confirm(
        self, bob: Person, django_capture_on_commit_callbacks: Any
    ):
        with django_capture_on_commit_callbacks(execute=True):
            result = do_update_own_profile(
                bob, {"last_name": "Builder"}, new_email="bob@new.example"
            )
        assert (result.changed, result.email_change_requested) == (["last_name"], True)
        assert sorted(m.to[0] for m in mail.outbox) == ["Bob@Example.org", "bob@new.example"]
        bob.refresh_from_db()
        assert (bob.last_name, bob.email) == ("Builder", "Bob@Example.org")

    def test_the_same_address_in_another_case_asks_nothing(
        self, bob: Person, django_capture_on_commit_callbacks: Any
    ):
        with django_capture_on_commit_callbacks(execute=True):
            result = do_update_own_profile(bob, {}, new_email="BOB@example.org")
        assert (result.changed, result.email_change_requested, mail.outbox) == ([], False, [])

    def test_a_rolled_back_change_sends_nothing_and_keeps_the_name(
        self, bob: Person, django_capture_on_commit_callbacks: Any
    ):
        with (
            django_capture_on_commit_callbacks(execute=True),
            pytest.raises(RuntimeError),
            transaction.atomic(),
        ):
            do_update_own_profile(bob, {"last_name": "Builder"}, new_email="bob@new.example")
            raise RuntimeError
        assert mail.outbox == []
        assert Person.objects.get(pk=bob.pk).last_name == ""
