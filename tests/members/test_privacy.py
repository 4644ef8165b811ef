from __future__ import annotations

import csv
import io
import json
import re

import pytest
from django.core import mail

from groundswell.lib.tokens import email_hash
from groundswell.members.actions.consent import do_subscribe
from groundswell.members.actions.people import PersonDetails, do_find_or_create_person
from groundswell.members.actions.privacy import do_erase_person
from groundswell.members.actions.suppression import is_suppressed
from groundswell.members.models import AuditEntry, ConsentEvent, Person, Subscription
from groundswell.petitions.actions.signing import SignatureDetails, do_sign_petition
from groundswell.petitions.counter import clear_process_cache, petition_count
from groundswell.petitions.models import Signature
from tests.cast import make_mailing, make_org, make_petition

pytestmark = pytest.mark.django_db


@pytest.fixture
def exact_counts(settings):
    settings.COUNT_REFRESH_SECONDS = 0
    settings.COUNT_CACHE_SECONDS = 0
    clear_process_cache()


@pytest.fixture
def petition():
    org = make_org("Open Press", "open-press")
    return make_petition(sponsors=[org])


@pytest.fixture
def bob(petition):
    do_sign_petition(
        petition,
        SignatureDetails(
            email="bob@example.org",
            first_name="Bob",
            last_name="Builder",
            postal_code="AB1 2CD",
            country="GB",
            comment="=HYPERLINK(1) because it matters",
            show_name=True,
            consents={"open-press"},
        ),
        ip_address="192.0.2.7",
    )
    return Person.objects.get(email_normalised="bob@example.org")


def privacy_link(message) -> str:
    match = re.search(r"http://testserver(/privacy/confirm/[^\s]+/)", message.body)
    assert match, message.body
    return match[1]


def ask(client, capture, email, kind):
    with capture(execute=True):
        return client.post("/privacy/", {"email": email, "kind": kind})


class TestPrivacyRequest:
    def test_it_answers_the_same_whether_or_not_it_knows_the_address(
        self, client, bob, django_capture_on_commit_callbacks
    ):
        known = ask(client, django_capture_on_commit_callbacks, "BOB@example.org ", "export")
        unknown = ask(client, django_capture_on_commit_callbacks, "nobody@example.org", "export")
        assert known.status_code == unknown.status_code == 200
        assert known.content == unknown.content
        assert [m.to for m in mail.outbox] == [["bob@example.org"]]

    def test_it_names_a_bad_address_with_400(self, client):
        response = client.post("/privacy/", {"email": "not an address", "kind": "export"})
        assert response.status_code == 400
        assert b"email address" in response.content

    def test_the_link_confirms_on_a_button_not_on_opening(
        self, client, bob, django_capture_on_commit_callbacks
    ):
        ask(client, django_capture_on_commit_callbacks, "bob@example.org", "erase")
        link = privacy_link(mail.outbox[0])
        assert client.get(link).status_code == 200
        assert Person.objects.filter(pk=bob.pk).exists()

    def test_a_tampered_link_does_nothing(self, client, bob, django_capture_on_commit_callbacks):
        ask(client, django_capture_on_commit_callbacks, "bob@example.org", "erase")
        link = privacy_link(mail.outbox[0])
        assert client.post(link[:-3] + "xx/").status_code == 404
        assert Person.objects.filter(pk=bob.pk).exists()


class TestExport:
    def test_it_gives_everything_we_hold_as_json(
        self, client, bob, django_capture_on_commit_callbacks
    ):
        ask(client, django_capture_on_commit_callbacks, "bob@example.org", "export")
        response = client.post(privacy_link(mail.outbox[0]), {"format": "json"})
        assert response.status_code == 200
        assert response["Cache-Control"] == "no-store"
        data = json.loads(response.content)
        assert data["profile"]["last_name"] == "Builder"
        assert data["signatures"][0]["petition"] == "Cancel the contract"
        history = data["subscriptions"][0]["history"]
        assert history[0]["event"] == "subscribed"
        assert history[0]["ip_address"] == "192.0.2.7"
        assert "Open Press" in history[0]["wording"]
        assert AuditEntry.objects.filter(action="exported", actor="self").count() == 1

    def test_it_gives_a_spreadsheet_that_cannot_run_formulas(
        self, client, bob, django_capture_on_commit_callbacks
    ):
        ask(client, django_capture_on_commit_callbacks, "bob@example.org", "export")
        response = client.post(privacy_link(mail.outbox[0]), {"format": "csv"})
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        assert rows[0] == ["section", "item", "field", "value"]
        comment = next(r for r in rows if r[2] == "comment")
        assert comment[3] == "'=HYPERLINK(1) because it matters"


class TestErasure:
    def test_it_removes_the_person_and_keeps_an_anonymous_signature_that_counts(
        self, client, bob, petition, exact_counts, django_capture_on_commit_callbacks
    ):
        before = petition_count(petition).count
        Signature.objects.update(client_network="192.0.2.1", email_domain="example.org")
        ask(client, django_capture_on_commit_callbacks, "bob@example.org", "erase")
        response = client.post(privacy_link(mail.outbox[0]))
        assert response.status_code == 200
        assert not Person.objects.filter(email_normalised="bob@example.org").exists()
        signature = Signature.objects.get()
        assert signature.person is None
        assert (signature.comment, signature.show_name) == ("", False)
        assert (signature.client_network, signature.email_domain) == ("", "")
        assert petition_count(petition).count == before == 1
        assert not Subscription.objects.exists()
        assert not ConsentEvent.objects.exists()
        assert is_suppressed("bob@example.org")
        entry = AuditEntry.objects.get(action="erased")
        assert entry.subject_hash == email_hash("bob@example.org")
        assert entry.person is None

    def test_signing_again_after_erasure_is_a_new_person_and_fresh_consent_lifts_suppression(
        self, bob, petition
    ):
        do_erase_person(bob, actor="staff:alice")
        other = make_petition("second", sponsors=[make_org("Other", "other")])
        person, created = do_find_or_create_person(
            PersonDetails(email="bob@example.org"), source="t"
        )
        assert created
        assert is_suppressed("bob@example.org")
        do_subscribe(person, other.sponsors.get().default_list, source="t", wording="Yes")
        assert not is_suppressed("bob@example.org")


class TestMailingData:
    def test_export_lists_mailings_received_and_clicks_and_erasure_keeps_them_anonymous(
        self, bob, petition
    ):
        from django.utils import timezone

        from groundswell.mailings.models import MailingRecipient
        from groundswell.members.actions.privacy import export_person
        from groundswell.tracking.models import Click

        org = petition.sponsors.get()
        mailing = make_mailing(
            org,
            from_name="OP",
            from_email="op@example.org",
            subject="Sign now",
            body="x",
            petition=None,
        )
        MailingRecipient.objects.create(
            mailing=mailing, person=bob, email=bob.email, state="sent", sent_at=timezone.now()
        )
        Click.objects.create(
            mailing=mailing,
            link_number=3,
            person=bob,
            clicked_at=timezone.now(),
            ip_address="192.0.2.9",
            user_agent="Firefox",
        )
        data = export_person(bob)
        assert data["mailings_received"][0]["subject"] == "Sign now"
        assert data["clicks"][0]["link_number"] == 3

        do_erase_person(bob, actor="self")
        recipient = MailingRecipient.objects.get()
        assert (recipient.person, recipient.email) == (None, "")
        click = Click.objects.get()
        assert (click.person, click.ip_address, click.user_agent) == (None, None, "")
