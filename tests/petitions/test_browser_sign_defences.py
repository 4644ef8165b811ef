"""The sign form's defences in chromium, as a person meets them: the minimum time
holds with and without JavaScript (the stamp is in the page, no script needed), and
the honeypot field is neither seen nor reached by keyboard."""

from __future__ import annotations

from typing import Any

import pytest

from groundswell.petitions.models import Petition, Signature
from tests.petitions.test_browser_signing import fill_form, page_url

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def people_s_minimum(settings: Any) -> None:
    settings.SIGN_MIN_SECONDS = 2


class TestTheDefencesInChromium:
    @pytest.mark.parametrize("javascript", [True, False])
    def test_a_person_who_takes_their_time_signs(
        self,
        live_server: Any,
        page: Any,
        no_js_page: Any,
        petition: Petition,
        people_s_minimum: None,
        javascript: bool,
    ) -> None:
        browser_page = page if javascript else no_js_page
        browser_page.goto(page_url(live_server, petition))
        fill_form(browser_page, "charlie@example.org")
        browser_page.wait_for_timeout(2100)
        browser_page.get_by_role("button", name="Sign the petition").click()

        browser_page.wait_for_url("**/thanks/")
        assert Signature.objects.count() == 1

    def test_a_form_sent_at_once_is_refused_and_signs_when_sent_again(
        self, live_server: Any, no_js_page: Any, petition: Petition, people_s_minimum: None
    ) -> None:
        no_js_page.goto(page_url(live_server, petition))
        fill_form(no_js_page, "charlie@example.org")
        no_js_page.get_by_role("button", name="Sign the petition").click()
        no_js_page.wait_for_load_state()

        assert "quicker than we expected" in no_js_page.content()
        assert no_js_page.get_by_label("Email address").input_value() == "charlie@example.org"
        assert not Signature.objects.exists()
        no_js_page.wait_for_timeout(2100)
        no_js_page.get_by_role("button", name="Sign the petition").click()
        no_js_page.wait_for_url("**/thanks/")
        assert Signature.objects.count() == 1

    def test_the_honeypot_is_neither_seen_nor_reached_by_keyboard(
        self, live_server: Any, page: Any, petition: Petition
    ) -> None:
        page.goto(page_url(live_server, petition))

        assert not page.locator("#sign-website").is_visible()
        page.get_by_label("Country", exact=True).focus()
        for _ in range(40):
            page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.id") != "sign-website"
