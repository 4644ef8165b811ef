"""Mailgun's tracking webhook through django-anymail, basic auth and signature checked."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from groundswell.bounces.models import BounceEvent
from groundswell.members.actions.suppression import is_suppressed
from groundswell.members.models import ConsentEvent
from tests.bounces.cast import (
    BOB,
    FRANK,
    mail_member,
    make_campaign,
    sample,
)

URL = "/webhooks/anymail/mailgun/tracking/"
SECRET = "mailgun:w3bh00k-basic-auth-pass"
SIGNING_KEY = "9f2c1e4b7a6d5c3b2a1f0e9d8c7b6a5f"


@pytest.fixture
def campaign(db, settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET, "MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY}
    return make_campaign()


def signed(name: str, key: str = SIGNING_KEY) -> bytes:
    payload = json.loads(sample(name))
    block = payload["signature"]
    block["signature"] = hmac.new(
        key.encode(), f"{block['timestamp']}{block['token']}".encode(), hashlib.sha256
    ).hexdigest()
    return json.dumps(payload).encode()


def basic_auth(credentials: str = SECRET) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(credentials.encode()).decode()}


def post(client, body: bytes, **headers: str):
    return client.post(URL, body, content_type="application/json", **headers)


def statuses(person):
    return sorted(s.status for s in person.subscriptions.all())


class TestMailgunTrackingWebhook:
    def test_a_permanent_failure_marks_the_member_bounced(self, client, campaign):
        bob, copy = mail_member(campaign, BOB, campaign.supporters, campaign.volunteers)

        response = post(client, signed("mailgun-permanent-failure.json"), **basic_auth())

        assert response.status_code == 200
        copy.refresh_from_db()
        assert copy.bounced_at is not None
        assert statuses(bob) == ["bounced", "bounced"]
        assert is_suppressed(bob.email_normalised)
        event = BounceEvent.objects.get()
        assert event.source == "mailgun:bounced"
        assert "User unknown" in event.detail

    def test_a_temporary_failure_is_recorded_only(self, client, campaign):
        bob, copy = mail_member(campaign, BOB)

        response = post(client, signed("mailgun-temporary-failure.json"), **basic_auth())

        assert response.status_code == 200
        copy.refresh_from_db()
        assert copy.bounced_at is None
        assert statuses(bob) == ["subscribed"]
        assert BounceEvent.objects.get().kind == "soft"

    def test_a_complaint_unsubscribes_everywhere_and_suppresses(self, client, campaign):
        frank, copy = mail_member(campaign, FRANK, campaign.supporters, campaign.volunteers)

        response = post(client, signed("mailgun-complained.json"), **basic_auth())

        assert response.status_code == 200
        copy.refresh_from_db()
        assert copy.complained_at is not None
        assert statuses(frank) == ["complained", "complained"]
        assert is_suppressed(frank.email_normalised)

    def test_an_unsubscribe_at_mailgun_leaves_only_the_list_the_email_went_to(
        self, client, campaign
    ):
        """Like our own one-click link: the mailing's lists, no suppression."""
        campaign.mailing.include_lists.set([campaign.supporters])
        frank, copy = mail_member(campaign, FRANK, campaign.supporters, campaign.volunteers)

        response = post(client, signed("mailgun-unsubscribed.json"), **basic_auth())

        assert response.status_code == 200
        copy.refresh_from_db()
        assert copy.unsubscribed_at is not None
        assert dict(frank.subscriptions.values_list("mailing_list__slug", "status")) == {
            "supporters": "unsubscribed",
            "volunteers": "subscribed",
        }
        assert not is_suppressed(frank.email_normalised)

    @pytest.mark.parametrize(
        "headers",
        [
            {},
            basic_auth("mailgun:wrong-password"),
            {"HTTP_AUTHORIZATION": "Bearer " + SECRET},
        ],
        ids=["no auth", "wrong password", "not basic"],
    )
    def test_it_refuses_without_the_right_basic_auth_and_changes_nothing(
        self, client, campaign, headers
    ):
        bob, _ = mail_member(campaign, BOB)

        response = post(client, signed("mailgun-permanent-failure.json"), **headers)

        assert response.status_code in (400, 403)
        assert statuses(bob) == ["subscribed"]
        assert not is_suppressed(bob.email_normalised)
        assert BounceEvent.objects.count() == 0

    def test_it_refuses_a_payload_signed_with_another_key(self, client, campaign):
        frank, _ = mail_member(campaign, FRANK)

        body = signed("mailgun-complained.json", key="someone-elses-key")
        response = post(client, body, **basic_auth())

        assert response.status_code == 400
        assert statuses(frank) == ["subscribed"]
        assert ConsentEvent.objects.filter(kind="complained").count() == 0

    def test_it_refuses_a_payload_changed_after_signing(self, client, campaign):
        bob, _ = mail_member(campaign, BOB)
        payload = json.loads(signed("mailgun-permanent-failure.json"))
        payload["signature"]["timestamp"] = "1715674401"

        response = post(client, json.dumps(payload).encode(), **basic_auth())

        assert response.status_code == 400
        assert statuses(bob) == ["subscribed"]


class TestWithoutConfiguration:
    def test_it_refuses_everything_when_no_secret_is_set(self, client, db):
        # The tests' environment sets neither ANYMAIL_WEBHOOK_SECRET nor the signing key.
        campaign = make_campaign()
        bob, _ = mail_member(campaign, BOB)

        for credentials in (SECRET, "anymail:", ":"):
            response = post(
                client, signed("mailgun-permanent-failure.json"), **basic_auth(credentials)
            )
            assert response.status_code == 400

        assert statuses(bob) == ["subscribed"]

    def test_other_providers_refuse_too(self, client, db):
        response = client.post(
            "/webhooks/anymail/postmark/tracking/",
            json.dumps({"RecordType": "SpamComplaint", "Email": "x@example.org"}),
            content_type="application/json",
            **basic_auth("anymail:"),
        )
        assert response.status_code == 400


@pytest.mark.slow
def test_several_webhook_secrets_can_be_given_for_rotation(tmp_path):
    from tests.test_settings import run_groundswell

    code = "from django.conf import settings; print(settings.ANYMAIL['WEBHOOK_SECRET'])"
    result = run_groundswell(
        tmp_path, "shell", "-c", code, ANYMAIL_WEBHOOK_SECRET="mailgun:old-pass, mailgun:new-pass"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "['mailgun:old-pass', 'mailgun:new-pass']"
