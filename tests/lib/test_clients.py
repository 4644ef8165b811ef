"""Where a request comes from: the connection's address, unless a trusted reverse proxy
made the connection; then the address that proxy says it was reached from, never one
the client wrote into X-Forwarded-For itself. The same answer for consent records and
clicks."""

from __future__ import annotations

from ipaddress import ip_network
from typing import Any

import pytest
from django.test import Client, RequestFactory

from groundswell.lib.clients import client_address, network_of
from groundswell.members.models import ConsentEvent
from groundswell.petitions.models import Petition, Signature
from tests.petitions.test_petition_page import URL, sign_data

PROXY = "10.0.0.5"


def address(remote: str, forwarded: str | None = None) -> str | None:
    meta: dict[str, Any] = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_address(RequestFactory().get("/", **meta))


@pytest.fixture
def behind_a_proxy(settings: Any) -> None:
    settings.TRUSTED_PROXIES = [ip_network("10.0.0.0/24"), ip_network("2001:db8:1::/64")]


class TestWithoutTrustedProxies:
    def test_it_takes_the_connection_s_address_and_ignores_the_header(self, settings: Any) -> None:
        settings.TRUSTED_PROXIES = []
        assert address("198.51.100.9", "203.0.113.7") == "198.51.100.9"


@pytest.mark.usefixtures("behind_a_proxy")
class TestBehindATrustedProxy:
    def test_it_takes_the_address_the_proxy_was_reached_from(self) -> None:
        assert address(PROXY, "203.0.113.7") == "203.0.113.7"

    def test_it_ignores_what_the_client_wrote_before_the_proxy_s_entry(self) -> None:
        assert address(PROXY, "192.0.2.66, 203.0.113.7") == "203.0.113.7"

    def test_it_skips_a_chain_of_trusted_proxies(self) -> None:
        assert address(PROXY, "203.0.113.7, 10.0.0.9, 2001:db8:1::3") == "203.0.113.7"

    def test_a_connection_not_from_a_proxy_keeps_its_own_address(self) -> None:
        assert address("198.51.100.9", "203.0.113.7") == "198.51.100.9"

    def test_a_malformed_entry_is_no_address(self) -> None:
        assert address(PROXY, "203.0.113.7, not-an-address") is None

    def test_an_entry_longer_than_any_address_is_no_address(self) -> None:
        assert address(PROXY, "203.0.113.7, " + "1" * 65) is None

    def test_a_change_of_trusted_proxies_counts_at_once(self, settings: Any) -> None:
        assert address(PROXY, "198.51.100.1, 203.0.113.7") == "203.0.113.7"

        settings.TRUSTED_PROXIES = [ip_network("10.0.0.0/24"), ip_network("203.0.113.0/24")]
        assert address(PROXY, "198.51.100.1, 203.0.113.7") == "198.51.100.1"

        settings.TRUSTED_PROXIES = []
        assert address(PROXY, "198.51.100.1, 203.0.113.7") == PROXY

    def test_without_the_header_it_is_the_proxy_s_address(self) -> None:
        assert address(PROXY) == PROXY
        assert address(PROXY, " , ") == PROXY

    def test_ipv6_is_written_the_usual_way(self) -> None:
        assert address(PROXY, "2001:DB8:0:0::1") == "2001:db8::1"


@pytest.mark.django_db
@pytest.mark.usefixtures("behind_a_proxy")
def test_the_consent_record_holds_the_signer_s_address_not_the_proxy_s(
    client: Client, petition: Petition
) -> None:
    response = client.post(
        URL,
        {**sign_data(petition), "consent_open-press": "on"},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR="192.0.2.66, 203.0.113.7",
    )
    assert response.status_code == 303
    assert ConsentEvent.objects.get().ip_address == "203.0.113.7"


@pytest.mark.django_db
@pytest.mark.usefixtures("behind_a_proxy")
def test_the_signature_holds_the_signer_s_network_and_email_domain(
    client: Client, petition: Petition
) -> None:
    response = client.post(
        URL,
        {**sign_data(petition), "email": "Someone@Example.ORG"},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR="2001:db8:77:1:abcd::5",
    )
    assert response.status_code == 303
    signature = Signature.objects.get()
    assert (signature.client_network, signature.email_domain) == (
        "2001:db8:77:1::/64",
        "example.org",
    )


class TestNetworkOf:
    def test_it_keeps_an_ipv4_address_whole(self) -> None:
        assert network_of("192.0.2.7") == "192.0.2.7"

    def test_it_groups_ipv6_by_its_slash_64(self) -> None:
        assert network_of("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64"
        assert network_of("2001:db8:1:2:bbbb::9") == network_of("2001:db8:1:2:aaaa::1")

    def test_it_reads_an_ipv4_mapped_ipv6_address_as_ipv4(self) -> None:
        assert network_of("::ffff:192.0.2.7") == "192.0.2.7"

    def test_no_or_a_malformed_address_is_no_network(self) -> None:
        assert network_of(None) == ""
        assert network_of("not an address") == ""
