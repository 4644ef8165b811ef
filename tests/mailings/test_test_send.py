"""Test sends: through Django's mail backend over real SMTP, [TEST] in the subject."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from groundswell.lib.tokens import PREVIEW_TOKEN, make_member_token, read_member_token
from groundswell.mailings.models import Mailing, TrackedLink
from groundswell.members.models import Person

pytestmark = pytest.mark.django_db


def post_test(client: Client, mailing: Mailing, addresses: str, as_member: str = "") -> Any:
    return client.post(
        f"/staff/mailings/{mailing.pk}/test/", {"addresses": addresses, "as_member": as_member}
    )


class TestTestSend:
    def test_it_sends_each_address_a_copy_as_the_member_whose_links_act_for_no_one(
        self,
        alice_client: Client,
        mailing: Mailing,
        bob: Person,
        smtp_sink: Any,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            response = post_test(
                alice_client, mailing, "alice@fieldstone.example, ops@fieldstone.example", bob.email
            )
        assert response.status_code == 302
        received = smtp_sink.messages
        assert sorted(m["To"] for m in received) == [
            "alice@fieldstone.example",
            "ops@fieldstone.example",
        ]
        for message in received:
            assert message["Subject"] == "[TEST] Tell Microsoft: stop enabling ICE"
            assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
            text = message.get_payload()[0].get_payload(decode=True).decode()
            assert "Dear Bob," in text
            # Test copies get forwarded: their links carry the preview token, not Bob's.
            token = text.split("akid=")[1].split(")")[0].split()[0]
            assert token == PREVIEW_TOKEN and read_member_token(token) is None
            assert make_member_token(bob.pk, mailing.pk) not in message.as_string()
            assert f"/unsubscribe/{PREVIEW_TOKEN}/" in message["List-Unsubscribe"]
        # The links it carries exist, so they work when clicked.
        assert TrackedLink.objects.filter(mailing=mailing).count() == 9
        told = [str(m) for m in get_messages(response.wsgi_request)]
        assert told == ["Test sent to 2 addresses."]

    def test_it_sends_a_neutral_copy_without_a_member(
        self,
        alice_client: Client,
        mailing: Mailing,
        smtp_sink: Any,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            response = post_test(alice_client, mailing, "alice@fieldstone.example")
        (message,) = smtp_sink.messages
        text = message.get_payload()[0].get_payload(decode=True).decode()
        assert [str(m) for m in get_messages(response.wsgi_request)] == ["Test sent to 1 address."]
        assert "Dear friend," in text
        assert "akid" not in text
        assert message["List-Unsubscribe"] is None

    def test_it_refuses_more_than_ten_addresses_or_bad_ones(
        self, alice_client: Client, mailing: Mailing, smtp_sink: Any
    ) -> None:
        many = ", ".join(f"a{i}@example.org" for i in range(11))
        post_test(alice_client, mailing, many)
        post_test(alice_client, mailing, "not an address")
        assert smtp_sink.messages == []

    # Committed for real: the mail goes out on commit, inside the request.
    @pytest.mark.django_db(transaction=True)
    def test_it_tells_staff_when_the_mail_server_is_down(
        self, alice_client: Client, mailing: Mailing, settings: Any
    ) -> None:
        from tests.conftest import free_port

        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
        response = post_test(alice_client, mailing, "alice@fieldstone.example")
        page = alice_client.get(response["Location"]).content.decode()
        assert "The test was not sent" in page
