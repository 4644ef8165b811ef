from __future__ import annotations

import pytest
from django.test import Client

from groundswell.lib.tokens import make_member_token
from groundswell.members.actions.consent import do_subscribe
from groundswell.members.actions.suppression import is_suppressed
from groundswell.members.models import ConsentEvent, SubscriptionStatus
from groundswell.orgs.models import MailingList, Organisation
from tests.cast import make_list, make_mailing, make_org, make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def bob():
    """Bob is on Open Press's Supporters and its Volunteers lists, and on Common Ground's."""
    person = make_person("Bob@Example.org", "Bob", "Builder")
    for slug in ("open-press", "common-ground"):
        org = make_org(slug.title(), slug)
        do_subscribe(person, org.default_list, source="test", wording="Yes, email me.")
    volunteers = make_list(Organisation.objects.get(slug="open-press"), "Volunteers")
    do_subscribe(person, volunteers, source="test", wording="Yes, email me.")
    return person


@pytest.fixture
def supporters_mailing(bob):
    """A mailing from Open Press to its Supporters list."""
    open_press = Organisation.objects.get(slug="open-press")
    return make_mailing(open_press, open_press.default_list)


def subscribed(person) -> set[str]:
    return {
        f"{s.mailing_list.organisation.slug}/{s.mailing_list.name}"
        for s in person.subscriptions.filter(status=SubscriptionStatus.SUBSCRIBED)
    }


EVERY_LIST = {"open-press/Supporters", "open-press/Volunteers", "common-ground/Supporters"}


class TestUnsubscribePage:
    def test_it_names_the_list_the_email_came_from_and_changes_nothing(
        self, client, bob, supporters_mailing
    ):
        response = client.get(f"/unsubscribe/{make_member_token(bob.pk, supporters_mailing.pk)}/")
        text = response.content.decode()
        assert response.status_code == 200
        assert "This email came from Open-Press" in text and "<strong>Supporters</strong>" in text
        assert "Unsubscribe from this list" in text
        assert "Stop all emails from Open-Press" in text
        assert "Stop emails from every organisation on this site" in text
        assert subscribed(bob) == EVERY_LIST
        assert not is_suppressed(bob.email_normalised)

    def test_it_never_shows_the_email_address(self, client, bob, supporters_mailing):
        for mailing_id in (0, supporters_mailing.pk):
            response = client.get(f"/unsubscribe/{make_member_token(bob.pk, mailing_id)}/")
            assert b"example.org" not in response.content.replace(b"open-press.example", b"")
            assert b"Builder" not in response.content

    def test_it_leaves_only_the_list_the_email_came_from(self, client, bob, supporters_mailing):
        token = make_member_token(bob.pk, supporters_mailing.pk)
        response = client.post(f"/unsubscribe/{token}/", {"scope": "lists"})
        assert response.status_code == 200
        assert "You have left Open-Press's list: Supporters." in response.content.decode()
        assert subscribed(bob) == EVERY_LIST - {"open-press/Supporters"}
        assert not is_suppressed(bob.email_normalised)
        events = ConsentEvent.objects.filter(kind=SubscriptionStatus.UNSUBSCRIBED)
        assert {e.source for e in events} == {"unsubscribe-page:lists"}

    def test_it_leaves_every_list_of_that_organisation_as_a_separate_choice(
        self, client, bob, supporters_mailing
    ):
        token = make_member_token(bob.pk, supporters_mailing.pk)
        response = client.post(f"/unsubscribe/{token}/", {"scope": "organisation"})
        assert "Open-Press will not email you again" in response.content.decode()
        assert subscribed(bob) == {"common-ground/Supporters"}
        assert not is_suppressed(bob.email_normalised)

    def test_it_leaves_every_organisation_and_suppresses_only_when_asked(
        self, client, bob, supporters_mailing
    ):
        token = make_member_token(bob.pk, supporters_mailing.pk)
        client.post(f"/unsubscribe/{token}/", {"scope": "everywhere"})
        assert subscribed(bob) == set()
        assert is_suppressed("bob@example.org")

    def test_a_link_from_no_mailing_can_only_leave_everything(self, client, bob):
        token = make_member_token(bob.pk)
        page = client.get(f"/unsubscribe/{token}/").content.decode()
        assert "Unsubscribe from everything" in page and "Stop all emails from" not in page
        response = client.post(f"/unsubscribe/{token}/", {"scope": "everywhere"})
        assert b"You are unsubscribed" in response.content
        assert subscribed(bob) == set()
        assert is_suppressed("bob@example.org")
        events = ConsentEvent.objects.filter(kind=SubscriptionStatus.UNSUBSCRIBED)
        assert {e.source for e in events} == {"unsubscribe-page:everywhere"}

    def test_it_refuses_a_scope_it_does_not_know_and_changes_nothing(
        self, client, bob, supporters_mailing
    ):
        token = make_member_token(bob.pk, supporters_mailing.pk)
        response = client.post(f"/unsubscribe/{token}/", {"scope": "the-moon"})
        assert response.status_code == 400
        assert subscribed(bob) == EVERY_LIST

    def test_it_returns_404_for_a_tampered_token(self, client, bob):
        token = make_member_token(bob.pk)
        tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
        assert client.get(f"/unsubscribe/{tampered}/").status_code == 404
        assert client.post(f"/unsubscribe/{tampered}/").status_code == 404
        assert subscribed(bob) == EVERY_LIST


class TestOneClickUnsubscribe:
    """RFC 8058: a POST with the body List-Unsubscribe=One-Click, no cookies, no CSRF."""

    def post_one_click(self, client, token):
        return client.post(
            f"/unsubscribe/{token}/",
            data="List-Unsubscribe=One-Click",
            content_type="application/x-www-form-urlencoded",
        )

    def test_it_leaves_the_email_s_list_without_csrf_or_cookies_and_answers_200(
        self, bob, supporters_mailing
    ):
        from django.test import Client

        client = Client(enforce_csrf_checks=True)
        response = self.post_one_click(client, make_member_token(bob.pk, supporters_mailing.pk))
        assert response.status_code == 200
        assert "Location" not in response
        assert subscribed(bob) == EVERY_LIST - {"open-press/Supporters"}
        assert not is_suppressed(bob.email_normalised)
        assert ConsentEvent.objects.filter(source="one-click:lists").count() == 1

    def test_from_no_mailing_it_leaves_everything(self, bob):
        response = self.post_one_click(Client(), make_member_token(bob.pk, 0))
        assert response.status_code == 200
        assert subscribed(bob) == set()
        assert ConsentEvent.objects.filter(source="one-click:everywhere").count() == 3

    def test_a_second_one_click_changes_nothing(self, client, bob):
        token = make_member_token(bob.pk)
        self.post_one_click(client, token)
        events_after_first = ConsentEvent.objects.count()
        response = self.post_one_click(client, token)
        assert response.status_code == 200
        assert ConsentEvent.objects.count() == events_after_first

    def test_a_get_changes_nothing(self, client, bob):
        client.get(f"/unsubscribe/{make_member_token(bob.pk)}/?List-Unsubscribe=One-Click")
        assert subscribed(bob) == EVERY_LIST


class TestSubscriptionsPage:
    def test_it_shows_each_organisation_s_lists_apart(self, client, bob):
        text = client.get(f"/subscriptions/{make_member_token(bob.pk)}/").content.decode()
        assert "<legend>Common-Ground</legend>" in text and "<legend>Open-Press</legend>" in text
        assert text.count('type="checkbox"') == 3

    def test_it_keeps_only_the_ticked_lists_and_records_why(self, client, bob):
        keep = MailingList.objects.get(organisation__slug="open-press", name="Supporters")
        token = make_member_token(bob.pk)
        response = client.post(f"/subscriptions/{token}/", {"lists": [str(keep.pk)]})
        assert response.status_code == 200
        assert b"Your choices are saved" in response.content
        assert subscribed(bob) == {"open-press/Supporters"}
        assert not is_suppressed(bob.email_normalised)

    def test_unticking_everything_leaves_every_list_without_suppressing(self, client, bob):
        token = make_member_token(bob.pk)
        client.post(f"/subscriptions/{token}/", {})
        assert subscribed(bob) == set()
        assert not is_suppressed(bob.email_normalised)
        keep = MailingList.objects.get(organisation__slug="common-ground")
        client.post(f"/subscriptions/{token}/", {"lists": [str(keep.pk)]})
        assert subscribed(bob) == {"common-ground/Supporters"}
        event = ConsentEvent.objects.filter(subscription__mailing_list=keep).last()
        assert event.kind == "subscribed"
        assert "keep receiving emails" in event.wording

    def test_it_offers_only_lists_the_person_already_joined(self, client, bob):
        stranger_list = make_org("Far-Away", "far-away").default_list
        client.post(
            f"/subscriptions/{make_member_token(bob.pk)}/", {"lists": [str(stranger_list.pk)]}
        )
        assert not bob.subscriptions.filter(mailing_list=stranger_list).exists()
