"""A signature is not proof of identity: anyone can type Bob's address. When Bob has
left Open Press's list, complained, or left every organisation, a signature with his
address counts on the petition but brings back no subscription and lifts no
suppression; Bob is asked by email, and only his press of the button does that."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from groundswell.lib.tokens import make_member_token
from groundswell.members.actions.consent import do_mark_complained
from groundswell.members.actions.privacy import do_erase_person
from groundswell.members.actions.suppression import is_suppressed
from groundswell.members.models import ConsentEvent, Person, SubscriptionStatus
from groundswell.orgs.models import Organisation
from groundswell.petitions.actions.signing import SignatureDetails, do_sign_petition
from groundswell.petitions.models import Petition, Signature
from tests.cast import default_list, make_bob, make_mailing, subscribe

pytestmark = pytest.mark.django_db


@pytest.fixture
def bob(open_press: Organisation) -> Person:
    person = make_bob()
    subscribe(person, default_list(open_press))
    return person


def sign_as_bob(petition: Petition, capture: Any) -> None:
    """Someone types Bob's address and ticks Open Press's box."""
    with capture(execute=True):
        do_sign_petition(
            petition,
            SignatureDetails(
                email="bob@example.org",
                first_name="Bob",
                last_name="Member",
                consents={"open-press", "open-press-fund"},
            ),
            ip_address="203.0.113.9",
        )


def status_of(person_email: str, org: Organisation) -> str | None:
    person = Person.objects.filter(email_normalised=person_email).first()
    sub = person and person.subscriptions.filter(mailing_list=default_list(org)).first()
    return sub.status if sub else None


def renewal_link() -> str:
    [message] = [
        m for m in mail.outbox if m.subject == "Do you want to hear from Open Press again?"
    ]
    assert message.to == ["bob@example.org"]
    found = re.search(r"http://\S+/welcome-back/\S+/", message.body)
    assert found, message.body
    return found.group(0).split("://", 1)[1].partition("/")[2]


def unsubscribe_everywhere(bob: Person) -> None:
    Client().post(f"/unsubscribe/{make_member_token(bob.pk)}/", {"scope": "everywhere"})


class TestASignatureForALapsedAddress:
    def test_it_counts_but_leaves_an_unsubscribed_member_unsubscribed_and_asks(
        self,
        bob: Person,
        petition: Petition,
        open_press: Organisation,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        unsubscribe_everywhere(bob)
        sign_as_bob(petition, django_capture_on_commit_callbacks)

        assert Signature.objects.filter(petition=petition, person=bob).exists()
        assert status_of("bob@example.org", open_press) == SubscriptionStatus.UNSUBSCRIBED
        assert is_suppressed("bob@example.org")
        # One question per organisation he ticked, each on its own.
        assert sorted(m.subject for m in mail.outbox if "again" in m.subject) == [
            "Do you want to hear from Open Press Action Fund again?",
            "Do you want to hear from Open Press again?",
        ]
        assert renewal_link()

    def test_leaving_one_organisation_holds_only_that_one(
        self,
        bob: Person,
        petition: Petition,
        open_press: Organisation,
        action_fund: Organisation,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        mailing = make_mailing(open_press, default_list(open_press), petition=petition)
        Client().post(f"/unsubscribe/{make_member_token(bob.pk, mailing.pk)}/", {"scope": "lists"})
        sign_as_bob(petition, django_capture_on_commit_callbacks)
        assert status_of("bob@example.org", open_press) == SubscriptionStatus.UNSUBSCRIBED
        assert status_of("bob@example.org", action_fund) == SubscriptionStatus.SUBSCRIBED
        assert renewal_link()

    def test_its_button_is_the_consent_that_brings_him_back(
        self,
        bob: Person,
        petition: Petition,
        open_press: Organisation,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        unsubscribe_everywhere(bob)
        sign_as_bob(petition, django_capture_on_commit_callbacks)
        link = "/" + renewal_link()

        page = Client().get(link)
        assert page.status_code == 200
        assert "Hear from Open Press again?" in page.content.decode()
        assert status_of("bob@example.org", open_press) == SubscriptionStatus.UNSUBSCRIBED

        done = Client().post(link)
        assert done.status_code == 200
        assert "Open Press may email you again" in done.content.decode()
        assert status_of("bob@example.org", open_press) == SubscriptionStatus.SUBSCRIBED
        assert not is_suppressed("bob@example.org")
        event = ConsentEvent.objects.filter(source="consent-renewal").get()
        assert "hear from Open Press again" in event.wording

    def test_it_does_not_bring_back_someone_who_complained(
        self,
        bob: Person,
        petition: Petition,
        open_press: Organisation,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        do_mark_complained(bob, source="test")
        sign_as_bob(petition, django_capture_on_commit_callbacks)
        assert status_of("bob@example.org", open_press) == SubscriptionStatus.COMPLAINED
        assert is_suppressed("bob@example.org")

    def test_it_does_not_subscribe_an_erased_address_that_signs_again(
        self,
        bob: Person,
        petition: Petition,
        open_press: Organisation,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        do_erase_person(bob, actor="self")
        sign_as_bob(petition, django_capture_on_commit_callbacks)
        assert status_of("bob@example.org", open_press) is None
        assert is_suppressed("bob@example.org")
        assert renewal_link()

    def test_it_subscribes_as_before_someone_who_never_left(
        self,
        petition: Petition,
        open_press: Organisation,
        action_fund: Organisation,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        sign_as_bob(petition, django_capture_on_commit_callbacks)
        assert status_of("bob@example.org", open_press) == SubscriptionStatus.SUBSCRIBED
        assert status_of("bob@example.org", action_fund) == SubscriptionStatus.SUBSCRIBED
        assert not [m for m in mail.outbox if "again" in m.subject]

    def test_a_changed_or_foreign_link_changes_nothing(
        self,
        bob: Person,
        petition: Petition,
        open_press: Organisation,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        unsubscribe_everywhere(bob)
        sign_as_bob(petition, django_capture_on_commit_callbacks)
        link = "/" + renewal_link()
        assert Client().post(link[:-3] + "xx/").status_code == 404
        privacy_style = link.replace("welcome-back", "privacy/confirm")
        assert Client().post(privacy_style).status_code == 404
        assert status_of("bob@example.org", open_press) == SubscriptionStatus.UNSUBSCRIBED
