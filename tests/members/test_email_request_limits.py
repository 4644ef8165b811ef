"""The forms that send an email to an address someone types cannot mail-bomb it
(EMAIL_REQUEST_LIMITS, docs/security.md): /privacy/ requests, the profile link from a
member link, and email changes, counted per client network and per address written
to; over the limit, 429 with the form as typed and when to try again, and no email."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from groundswell.lib.limits import parse_limits
from groundswell.lib.tokens import make_member_token
from groundswell.limits.models import LimitedRequest
from tests.cast import make_person
from tests.members.test_profile import link_in

pytestmark = pytest.mark.django_db


def limits(text: str) -> dict[str, Any]:
    return parse_limits(text, keys=["network", "address"], defaults={})


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks: Any) -> Any:
    return django_capture_on_commit_callbacks


@pytest.fixture
def bob() -> Any:
    return make_person("bob@example.org", "Bob", "Builder")


class TestPrivacyRequests:
    def ask(self, client: Any, on_commit: Any, email: str, address: str = "192.0.2.7") -> Any:
        with on_commit(execute=True):
            return client.post("/privacy/", {"email": email, "kind": "export"}, REMOTE_ADDR=address)

    def test_it_sends_an_address_at_most_its_limit_from_any_number_of_networks(
        self, client: Any, on_commit: Any, bob: Any
    ) -> None:
        for n in range(3):
            assert self.ask(client, on_commit, "bob@example.org", f"192.0.2.{n}").status_code == 200

        response = self.ask(client, on_commit, "BOB@example.org", "198.51.100.1")

        assert response.status_code == 429
        assert 0 < int(response["Retry-After"]) <= 601
        html = response.content.decode()
        assert "Please try again in 10 minutes" in html
        assert 'value="BOB@example.org"' in html
        assert len(mail.outbox) == 3

    def test_one_network_is_limited_whatever_addresses_it_types(
        self, client: Any, on_commit: Any, settings: Any
    ) -> None:
        settings.EMAIL_REQUEST_LIMITS = limits("network=2/10m; address=off")
        for n in range(2):
            self.ask(client, on_commit, f"someone{n}@example.org")

        assert self.ask(client, on_commit, "another@example.org").status_code == 429
        assert self.ask(client, on_commit, "another@example.org", "2001:db8::1").status_code == 200

    def test_it_keeps_no_address_only_keyed_hashes(
        self, client: Any, on_commit: Any, bob: Any
    ) -> None:
        self.ask(client, on_commit, "bob@example.org")

        keys = list(LimitedRequest.objects.values_list("key", flat=True))
        assert len(keys) == 2
        assert not any("bob" in key or "192.0.2" in key for key in keys)

    def test_off_turns_it_off(self, client: Any, on_commit: Any, bob: Any, settings: Any) -> None:
        settings.EMAIL_REQUEST_LIMITS = limits("off")

        for _n in range(6):
            assert self.ask(client, on_commit, "bob@example.org").status_code == 200


class TestProfileLinks:
    def test_a_forwarded_member_link_cannot_flood_the_member(
        self, client: Any, on_commit: Any, bob: Any
    ) -> None:
        url = f"/profile/{make_member_token(bob.pk)}/"
        for n in range(3):
            with on_commit(execute=True):
                assert client.post(url, REMOTE_ADDR=f"192.0.2.{n}").status_code == 200

        with on_commit(execute=True):
            response = client.post(url, REMOTE_ADDR="192.0.2.99")

        assert response.status_code == 429
        assert "Please try again" in response.content.decode()
        assert len(mail.outbox) == 3


class TestEmailChanges:
    def edit_link(self, client: Any, on_commit: Any, bob: Any, settings: Any) -> str:
        settings.EMAIL_REQUEST_LIMITS = limits("off")
        with on_commit(execute=True):
            client.post(f"/profile/{make_member_token(bob.pk)}/")
        link = link_in(mail.outbox[-1], "/profile/edit/")
        mail.outbox.clear()
        return link

    def test_it_cannot_be_used_to_flood_a_new_address(
        self, client: Any, on_commit: Any, bob: Any, settings: Any
    ) -> None:
        one_per_address = limits("network=off; address=1/10m")
        edit = self.edit_link(client, on_commit, bob, settings)
        settings.EMAIL_REQUEST_LIMITS = one_per_address
        with on_commit(execute=True):
            client.post(edit, {"new_email": "victim@example.net"})
        edit = self.edit_link(client, on_commit, bob, settings)
        settings.EMAIL_REQUEST_LIMITS = one_per_address

        with on_commit(execute=True):
            response = client.post(edit, {"new_email": "victim@example.net", "first_name": "B"})

        assert response.status_code == 429
        html = response.content.decode()
        assert "Please try again" in html
        assert 'value="victim@example.net"' in html
        assert mail.outbox == []

    def test_a_name_with_a_link_is_refused(self, client: Any, on_commit: Any, bob: Any) -> None:
        with on_commit(execute=True):
            client.post(f"/profile/{make_member_token(bob.pk)}/")
        edit = link_in(mail.outbox[0], "/profile/edit/")

        response = client.post(edit, {"first_name": "Claim at https://evil.example"})

        assert response.status_code == 400
        assert "without a web or email address" in response.content.decode()
