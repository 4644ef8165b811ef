from __future__ import annotations

import re

import pytest
from django.core import mail

from groundswell.lib.tokens import make_member_token
from groundswell.members.actions.consent import do_subscribe
from groundswell.members.actions.people import PersonDetails, do_find_or_create_person
from groundswell.members.models import AuditEntry, ConsentEvent, Person
from tests.cast import make_org, make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


@pytest.fixture
def katy():
    person = make_person(
        "katy@example.org",
        "Katy",
        "Lindqvist",
        address="7 Orchard Row, Leeds",
        postal_code="LS1 4AP",
        country="GB",
    )
    return person


def confirmation_link(message) -> str:
    match = re.search(r"http://testserver(/profile/confirm-email/[^\s]+/)", message.body)
    assert match, message.body
    return match[1]


class TestProfilePage:
    def test_it_greets_by_first_name_and_never_shows_what_we_hold(self, client, katy):
        response = client.get(f"/profile/{make_member_token(katy.pk)}/")
        assert response.status_code == 200
        content = response.content.decode()
        assert "Katy" in content
        for secret in ("katy@example.org", "Lindqvist", "Orchard", "LS1 4AP"):
            assert secret not in content

    def test_it_changes_only_the_fields_filled_in(self, client, katy):
        response = client.post(
            f"/profile/{make_member_token(katy.pk)}/", {"postal_code": "LS2 9JT", "country": "gb"}
        )
        assert response.status_code == 200
        katy.refresh_from_db()
        assert (katy.postal_code, katy.country, katy.last_name) == ("LS2 9JT", "GB", "Lindqvist")
        assert AuditEntry.objects.filter(action="profile-updated", actor="self").exists()

    def test_it_rejects_a_bad_country_with_400_and_a_message(self, client, katy):
        response = client.post(f"/profile/{make_member_token(katy.pk)}/", {"country": "Britain"})
        assert response.status_code == 400
        assert b"two-letter country code" in response.content
        katy.refresh_from_db()
        assert katy.country == "GB"


class TestEmailChange:
    def test_it_changes_nothing_until_the_new_address_confirms(self, client, katy, on_commit):
        with on_commit(execute=True):
            client.post(
                f"/profile/{make_member_token(katy.pk)}/", {"new_email": "katy@new.example"}
            )
        katy.refresh_from_db()
        assert katy.email == "katy@example.org"
        recipients = sorted(m.to[0] for m in mail.outbox)
        assert recipients == ["katy@example.org", "katy@new.example"]
        confirm = next(m for m in mail.outbox if m.to == ["katy@new.example"])
        link = confirmation_link(confirm)
        page = client.get(link)
        assert page.status_code == 200
        katy.refresh_from_db()
        assert katy.email == "katy@example.org"
        assert client.post(link).status_code == 200
        katy.refresh_from_db()
        assert (katy.email, katy.email_normalised) == ("katy@new.example", "katy@new.example")

    def test_it_merges_with_the_person_who_had_that_address_keeping_both_histories(
        self, client, katy, on_commit
    ):
        other, _ = do_find_or_create_person(PersonDetails(email="KATY@work.example"), source="t")
        org = make_org("Open-Press", "open-press")
        do_subscribe(katy, org.default_list, source="a", wording="Yes from the first address")
        do_subscribe(other, org.default_list, source="b", wording="Yes from the second address")
        with on_commit(execute=True):
            client.post(
                f"/profile/{make_member_token(katy.pk)}/", {"new_email": "katy@work.example"}
            )
        client.post(confirmation_link(mail.outbox[0]))
        katy.refresh_from_db()
        assert katy.email_normalised == "katy@work.example"
        assert not Person.objects.filter(pk=other.pk).exists()
        subscription = katy.subscriptions.get()
        assert sorted(subscription.events.values_list("wording", flat=True)) == [
            "Yes from the first address",
            "Yes from the second address",
        ]
        assert ConsentEvent.objects.count() == 2

    def test_a_tampered_confirmation_link_changes_nothing(self, client, katy, on_commit):
        with on_commit(execute=True):
            client.post(
                f"/profile/{make_member_token(katy.pk)}/", {"new_email": "evil@example.net"}
            )
        link = confirmation_link(next(m for m in mail.outbox if m.to == ["evil@example.net"]))
        response = client.post(link.replace("confirm-email/", "confirm-email/x"))
        assert response.status_code == 404
        katy.refresh_from_db()
        assert katy.email == "katy@example.org"
