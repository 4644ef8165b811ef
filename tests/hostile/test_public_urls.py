"""Every public URL with parameters, walked from the URL map as in
tests/test_staff_isolation.py, with hostile path segments and query strings: huge,
negative and other-script numbers, forged tokens, bytes that are not UTF-8. Each
answer is a page or a clear 4xx; a page shows nothing typed as markup.

Bob the member is named with markup (as an import could have named him): the pages
that greet him show it as text.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import get_resolver
from hypothesis import given
from hypothesis import strategies as st

from groundswell.lib.tokens import make_member_token
from groundswell.mailings.links import web_version_path
from groundswell.mailings.models import Mailing, MailingStatus
from groundswell.members.models import Person
from groundswell.petitions.models import Petition
from tests import cast
from tests.hostile.strategies import (
    MARKUP,
    assert_answered_safely,
    fuzz,
    hostile_number,
    hostile_query_value,
    hostile_segment,
)
from tests.test_staff_isolation import _walk

pytestmark = pytest.mark.django_db

PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>")
QUERY_NAMES = (
    "t",
    "akid",
    "source",
    "ref",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "referer",
    "page",
    "scope",
    "lists",
    "format",
    "next",
)


def public_routes() -> list[str]:
    routes = [route for route, _ in _walk(get_resolver())]
    found = [r for r in routes if not r.startswith(("staff/", "admin/", "webhooks/", "bench/"))]
    assert "sign/<slug:slug>/" in found and "go/<int:mailing_id>/<int:number>/" in found
    return found


ROUTES = public_routes()
WITH_PARAMETERS = [r for r in ROUTES if "<" in r]
WEBHOOKS = [
    r
    for r, _ in _walk(get_resolver())
    if r.startswith("webhooks/") and "^" not in r and "(" not in r
]


class Bob:
    """A member named with markup, on Open Press's list, and a mailing sent to him."""

    def __init__(self, petition: Petition) -> None:
        org = petition.sponsors.first()
        assert org is not None
        self.person = Person.objects.filter(email_normalised="bob@example.org").first()
        if self.person is None:
            self.person = cast.make_person(
                "bob@example.org", MARKUP[0], MARKUP[1], postal_code="LS1 4AP", country="GB"
            )
            cast.subscribe(self.person, cast.default_list(org))
        self.mailing = Mailing.objects.filter(organisation=org).first() or cast.make_mailing(
            org, cast.default_list(org), petition=petition
        )
        Mailing.objects.filter(pk=self.mailing.pk).update(status=MailingStatus.SENT)
        self.token = make_member_token(self.person.pk, self.mailing.pk)

    def valid(self, route: str, petition: Petition) -> str:
        """The route with every parameter naming something that exists."""
        if route.startswith("mail/"):
            return web_version_path(self.mailing.pk)
        values = {
            "slug": petition.slug,
            "mailing_id": str(self.mailing.pk),
            "number": "1",
            "token": self.token,
            "signed": "not-a-valid-signature",
        }
        return "/" + PARAMETER.sub(lambda m: values[m[1]], route)


def query_string() -> st.SearchStrategy[str]:
    pairs = st.lists(
        st.tuples(st.sampled_from(QUERY_NAMES), hostile_query_value()), min_size=1, max_size=4
    )
    return pairs.map(lambda ps: "&".join(f"{name}={value}" for name, value in ps))


class TestHostileQueryStrings:
    @fuzz
    @given(query=query_string(), method=st.sampled_from(["get", "head", "post"]))
    def test_every_public_page_takes_any_query(
        self, petition: Petition, query: str, method: str
    ) -> None:
        bob = Bob(petition)
        client = Client()
        for route in ROUTES:
            url = bob.valid(route, petition) + "?" + query
            assert_answered_safely(getattr(client, method)(url), url)

    @fuzz
    @given(t=hostile_number(), query=query_string())
    def test_a_member_link_with_any_link_number_shows_the_member_page(
        self, petition: Petition, t: str, query: str
    ) -> None:
        bob = Bob(petition)
        url = f"/sign/{petition.slug}/?{query}&t={quote(t, safe='')}&akid={bob.token}"
        page = Client().get(url)
        text = assert_answered_safely(page, url)
        assert page.status_code == 200
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


class TestHostilePathSegments:
    @fuzz
    @given(segments=st.lists(hostile_segment(), min_size=3, max_size=3))
    def test_every_public_route_takes_any_parameter(
        self, petition: Petition, segments: list[str]
    ) -> None:
        client = Client()
        for route in WITH_PARAMETERS:
            values = iter(segments)
            url = "/" + PARAMETER.sub(lambda _m, values=values: next(values), route)
            for method in (client.get, client.post):
                assert_answered_safely(method(url), url)

    @fuzz
    @given(mailing_id=hostile_number(), number=hostile_number())
    def test_tracked_links_and_opens_take_any_number(
        self, petition: Petition, mailing_id: str, number: str
    ) -> None:
        m, n = quote(mailing_id, safe=""), quote(number, safe="")
        client = Client()
        for url in (f"/go/{m}/{n}/", f"/o/{m}/{n}.gif", f"/mail/{m}-{n}/"):
            assert_answered_safely(client.get(url), url)

    def test_a_nul_in_a_query_string_is_a_bad_request_with_the_usual_headers(
        self, petition: Petition
    ) -> None:
        for url in (f"/sign/{petition.slug}/?source=a%00b", "/privacy/?x%00=1"):
            response = Client().get(url)
            assert response.status_code == 400, url
            assert response["X-Frame-Options"] == "DENY"
            assert "Content-Security-Policy" in response
        assert Client().get(f"/sign/{petition.slug}/?source=%2500").status_code == 200


class TestTheMemberPagesShowNamesAsText:
    def test_the_pages_that_greet_bob_escape_his_name(self, petition: Petition) -> None:
        bob = Bob(petition)
        client = Client()
        for url in (
            f"/sign/{petition.slug}/?akid={bob.token}",
            f"/subscriptions/{bob.token}/",
            f"/unsubscribe/{bob.token}/",
            f"/profile/{bob.token}/",
            web_version_path(bob.mailing.pk),
        ):
            assert_answered_safely(client.get(url), url)


@pytest.mark.parametrize("route", WEBHOOKS)
def test_provider_webhooks_refuse_hostile_bodies_without_an_error(route: str, db: Any) -> None:
    client = Client()
    for body, content_type in (
        (b"\xff\xfe\x00{", "application/json"),
        (
            b'{"event": "<script>alert(1)</script>", "recipient": "a\\r\\nBcc: x"}',
            "application/json",
        ),
        (b"event=%FF%00&recipient=%0D%0ABcc:x", "application/x-www-form-urlencoded"),
    ):
        response = client.post("/" + route, body, content_type=content_type)
        assert response.status_code < 500 or response.status_code == 501, (route, response)
