from __future__ import annotations

import pytest

from groundswell.lib.tokens import make_member_token
from groundswell.members.actions.consent import do_subscribe
from groundswell.members.actions.suppression import is_suppressed
from groundswell.members.models import ConsentEvent, SubscriptionStatus
from groundswell.orgs.models import MailingList
from tests.cast import make_org, make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def bob():
    person = make_person("Bob@Example.org", "Bob", "Builder")
    for slug in ("open-press", "common-ground"):
        org = make_org(slug.title(), slug)
        do_subscribe(person, org.default_list, source="test", wording="Yes, email me.")
    return person


class TestUnsubscribePage:
    def test_it_shows_the_lists_and_a_button_without_changing_anything(self, client, bob):
        response = client.get(f"/unsubscribe/{make_member_token(bob.pk)}/")
        assert response.status_code == 200
        assert b"Open-Press: Supporters" in response.content
        assert b"Unsubscribe from everything" in response.content
        assert bob.subscriptions.filter(status=SubscriptionStatus.SUBSCRIBED).count() == 2
        assert not is_suppressed(bob.email_normalised)

    def test_it_never_shows_the_email_address(self, client, bob):
        response = client.get(f"/unsubscribe/{make_member_token(bob.pk)}/")
        assert b"example.org" not in response.content.replace(b"open-press.example", b"")
        assert b"Builder" not in response.content

    def test_it_unsubscribes_from_everything_on_post(self, client, bob):
        response = client.post(f"/unsubscribe/{make_member_token(bob.pk)}/")
        assert response.status_code == 200
        assert b"You are unsubscribed" in response.content
        assert not bob.subscriptions.filter(status=SubscriptionStatus.SUBSCRIBED).exists()
        assert is_suppressed("bob@example.org")
        events = ConsentEvent.objects.filter(kind=SubscriptionStatus.UNSUBSCRIBED)
        assert events.count() == 2
        assert {e.source for e in events} == {"unsubscribe-page"}

    def test_it_returns_404_for_a_tampered_token(self, client, bob):
        token = make_member_token(bob.pk)
        tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
        assert client.get(f"/unsubscribe/{tampered}/").status_code == 404
        assert client.post(f"/unsubscribe/{tampered}/").status_code == 404
        assert bob.subscriptions.filter(status=SubscriptionStatus.SUBSCRIBED).count() == 2


class TestOneClickUnsubscribe:
    """RFC 8058: a POST with the body List-Unsubscribe=One-Click, no cookies, no CSRF."""

    def post_one_click(self, client, token):
        return client.post(
            f"/unsubscribe/{token}/",
            data="List-Unsubscribe=One-Click",
            content_type="application/x-www-form-urlencoded",
        )

    def test_it_unsubscribes_without_csrf_or_cookies_and_answers_200(self, bob):
        from django.test import Client

        client = Client(enforce_csrf_checks=True)
        response = self.post_one_click(client, make_member_token(bob.pk, 0))
        assert response.status_code == 200
        assert "Location" not in response
        assert not bob.subscriptions.filter(status=SubscriptionStatus.SUBSCRIBED).exists()
        assert ConsentEvent.objects.filter(source="one-click").count() == 2

    def test_a_second_one_click_changes_nothing(self, client, bob):
        token = make_member_token(bob.pk)
        self.post_one_click(client, token)
        events_after_first = ConsentEvent.objects.count()
        response = self.post_one_click(client, token)
        assert response.status_code == 200
        assert ConsentEvent.objects.count() == events_after_first

    def test_a_get_changes_nothing(self, client, bob):
        client.get(f"/unsubscribe/{make_member_token(bob.pk)}/?List-Unsubscribe=One-Click")
        assert bob.subscriptions.filter(status=SubscriptionStatus.SUBSCRIBED).count() == 2


class TestSubscriptionsPage:
    def test_it_keeps_only_the_ticked_lists_and_records_why(self, client, bob):
        keep = MailingList.objects.get(organisation__slug="open-press")
        token = make_member_token(bob.pk)
        response = client.post(f"/subscriptions/{token}/", {"lists": [str(keep.pk)]})
        assert response.status_code == 200
        assert b"Your choices are saved" in response.content
        statuses = dict(bob.subscriptions.values_list("mailing_list__organisation__slug", "status"))
        assert statuses == {"open-press": "subscribed", "common-ground": "unsubscribed"}
        assert not is_suppressed(bob.email_normalised)

    def test_unticking_everything_suppresses_and_re_ticking_is_a_fresh_consent(self, client, bob):
        token = make_member_token(bob.pk)
        client.post(f"/subscriptions/{token}/", {})
        assert is_suppressed(bob.email_normalised)
        keep = MailingList.objects.get(organisation__slug="common-ground")
        client.post(f"/subscriptions/{token}/", {"lists": [str(keep.pk)]})
        assert not is_suppressed(bob.email_normalised)
        event = ConsentEvent.objects.filter(subscription__mailing_list=keep).last()
        assert event.kind == "subscribed"
        assert "keep receiving emails" in event.wording

    def test_it_offers_only_lists_the_person_already_joined(self, client, bob):
        stranger_list = make_org("Far-Away", "far-away").default_list
        client.post(
            f"/subscriptions/{make_member_token(bob.pk)}/", {"lists": [str(stranger_list.pk)]}
        )
        assert not bob.subscriptions.filter(mailing_list=stranger_list).exists()
