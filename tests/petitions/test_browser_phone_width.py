"""At phone width (390 px) a long URL or word that someone typed wraps: no page scrolls sideways."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone

from groundswell.mailings.links import web_version_path
from groundswell.mailings.models import Mailing, MailingStatus
from groundswell.mailings.rendering import prepare_mailing
from groundswell.orgs.models import Organisation
from groundswell.petitions.models import Petition
from tests.cast import make_mailing, make_petition

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG_URL = "https://news.example.org/" + "investigations/2018/06/" * 6 + "?utm_source=petition"
LONG_WORD = "Donaudampfschifffahrtselektrizitätenhauptbetriebswerkbauunterbeamtengesellschaft"
STATEMENT = f"End every contract with the {LONG_WORD} and its agency."
BACKGROUND = f"""\
The company holds a contract with the agency[^1].

[^1]: Reported at {LONG_URL}
"""
THANK_YOU = f"Read the whole story at {LONG_URL} and tell the {LONG_WORD}."
MAILING_BODY = f"""\
Dear {{{{ first_name|default:"friend" }}}},

The {LONG_WORD} must stop[^1].

[^1]: Reported at {LONG_URL}
"""


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=1)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def long_petition(open_press: Organisation) -> Petition:
    return make_petition(
        sponsors=[open_press], statement=STATEMENT, background=BACKGROUND, thank_you_text=THANK_YOU
    )


def sideways_overflow(page: Any) -> int:
    """How many pixels the page is wider than the screen (0 when nothing scrolls sideways)."""
    return int(
        page.evaluate(
            "() => document.scrollingElement.scrollWidth - document.scrollingElement.clientWidth"
        )
    )


def open_at_phone_width(page: Any, url: str, screenshot: str) -> None:
    page.goto(url)
    page.screenshot(path=f"/tmp/{screenshot}", full_page=True)


class TestAtPhoneWidth:
    def test_the_petition_page_wraps_a_long_url_in_a_footnote_and_a_long_word(
        self, live_server: Any, phone: Any, long_petition: Petition
    ) -> None:
        open_at_phone_width(
            phone, f"{live_server.url}/sign/{long_petition.slug}/", "petition-390px.png"
        )
        # Both are on the page, whole, as typed.
        assert LONG_WORD in phone.locator(".petition-text").inner_text()
        assert LONG_URL in phone.locator(".footnotes").inner_text().replace("\n", "")
        assert sideways_overflow(phone) <= 0

    def test_the_thank_you_page_wraps_the_thank_you_text(
        self, live_server: Any, phone: Any, long_petition: Petition
    ) -> None:
        open_at_phone_width(
            phone, f"{live_server.url}/sign/{long_petition.slug}/thanks/", "thanks-390px.png"
        )
        assert LONG_WORD in phone.locator(".thank-you-text").inner_text()
        assert sideways_overflow(phone) <= 0

    def test_the_web_version_of_a_mailing_wraps_them_too(
        self, live_server: Any, phone: Any, open_press: Organisation, long_petition: Petition
    ) -> None:
        mailing = make_mailing(open_press, petition=long_petition, body=MAILING_BODY)
        prepare_mailing(mailing)
        Mailing.objects.filter(pk=mailing.pk).update(
            status=MailingStatus.SENDING, started_at=timezone.now()
        )
        open_at_phone_width(
            phone, f"{live_server.url}{web_version_path(mailing.pk)}", "web-version-390px.png"
        )
        assert LONG_WORD in phone.locator("body").inner_text()
        assert sideways_overflow(phone) <= 0


def test_the_member_pages_fit_a_phone(
    live_server: Any, phone: Any, open_press: Organisation
) -> None:
    """The unsubscribe page's choices, the subscriptions page and the profile page."""
    from groundswell.lib.tokens import make_member_token
    from tests.cast import default_list, make_bob, subscribe

    bob = make_bob()
    subscribe(bob, default_list(open_press))
    mailing = make_mailing(open_press, default_list(open_press))
    token = make_member_token(bob.pk, mailing.pk)
    for path, name in [
        (f"/unsubscribe/{token}/", "unsubscribe-390px.png"),
        (f"/subscriptions/{token}/", "subscriptions-390px.png"),
        (f"/profile/{token}/", "profile-390px.png"),
    ]:
        open_at_phone_width(phone, f"{live_server.url}{path}", name)
        assert sideways_overflow(phone) <= 0, path
    phone.click("text=Email me a link")
    phone.goto(f"{live_server.url}/unsubscribe/{token}/")
    phone.click("text=Unsubscribe from this list")
    assert "You are unsubscribed" in phone.locator("h1").inner_text()
    assert sideways_overflow(phone) <= 0
