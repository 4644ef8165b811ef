"""Signing in chromium as people do: with and without JavaScript, by keyboard, with errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from groundswell.members.models import ConsentEvent
from groundswell.petitions.models import Petition, Signature

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parents[1] / "vendor" / "axe.min.js"
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


@pytest.fixture
def no_js_page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(java_script_enabled=False, bypass_csp=True)
    page = context.new_page()
    yield page
    context.close()


def page_url(live_server: Any, petition: Petition) -> str:
    return f"{live_server.url}/sign/{petition.slug}/"


def fill_form(page: Any, email: str) -> None:
    page.get_by_label("First name", exact=True).fill("Charlie")
    page.get_by_label("Last name").fill("Stranger")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Postal code").fill("AB1 2CD")
    page.get_by_label("Country", exact=True).select_option("GB")


def serious_violations(page: Any) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_22_AA
    )
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def focused_id(page: Any) -> str:
    return str(page.evaluate("document.activeElement && document.activeElement.id"))


class TestSigningInChromium:
    def test_it_signs_with_javascript(
        self, live_server: Any, page: Any, petition: Petition
    ) -> None:
        page.goto(page_url(live_server, petition) + "?source=browser-test")
        fill_form(page, "charlie@example.org")
        page.get_by_label("Tick this box to let Open Press email you").check()
        page.get_by_role("button", name="Sign the petition").click()

        page.wait_for_url("**/thanks/")
        assert page.get_by_role("heading", level=1).inner_text() == "Thank you for signing"
        signature = Signature.objects.get()
        assert signature.source == "browser-test"
        assert ConsentEvent.objects.count() == 1
        # The copy button appears only where it can work.
        assert page.get_by_role("button", name="Copy link").is_visible()

    def test_it_signs_without_javascript_and_then_again(
        self, live_server: Any, no_js_page: Any, petition: Petition
    ) -> None:
        page = no_js_page
        page.goto(page_url(live_server, petition))
        fill_form(page, "charlie@example.org")
        page.get_by_role("button", name="Sign the petition").click()
        page.wait_for_url("**/thanks/")
        assert "Thank you for signing" in page.content()
        assert not page.get_by_role("button", name="Copy link").is_visible()
        assert "ref=" in page.get_by_label("Link to the petition").input_value()

        page.goto(page_url(live_server, petition))
        fill_form(page, "  CHARLIE@example.org")
        page.get_by_role("button", name="Sign the petition").click()
        page.wait_for_url("**/thanks/")

        assert "Thank you for signing" in page.content()
        assert Signature.objects.count() == 1

    @pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
    def test_an_empty_form_shows_the_errors_and_takes_focus_to_them(
        self, live_server: Any, browser: Any, petition: Petition, javascript: bool
    ) -> None:
        context = browser.new_context(java_script_enabled=javascript, bypass_csp=True)
        page = context.new_page()
        try:
            page.goto(page_url(live_server, petition))
            response_statuses: list[int] = []
            page.on("response", lambda r: response_statuses.append(r.status))
            page.get_by_role("button", name="Sign the petition").click()
            page.wait_for_selector("#error-summary")

            assert 400 in response_statuses
            assert focused_id(page) == "error-summary"
            summary = page.locator("#error-summary").inner_text()
            assert "Enter your first name." in summary
            assert "Enter your email address." in summary
            assert page.title().startswith("Error:")
            # The summary's link takes the reader to the field.
            page.get_by_role("link", name="Enter your email address.").click()
            assert focused_id(page) in ("id_email", "error-summary")  # anchor scrolls
        finally:
            context.close()

    def test_it_signs_with_the_keyboard_alone(
        self, live_server: Any, page: Any, petition: Petition
    ) -> None:
        page.goto(page_url(live_server, petition))

        def tab_until(condition: str) -> None:
            for _ in range(80):
                page.keyboard.press("Tab")
                if page.evaluate(f"(el => {condition})(document.activeElement)"):
                    return
            raise AssertionError(f"Tab never reached an element where {condition}")

        def tab_to(element_id: str) -> None:
            tab_until(f"el.id === {element_id!r}")

        tab_to("id_first_name")
        page.keyboard.type("Charlie")
        page.keyboard.press("Tab")
        page.keyboard.type("Stranger")
        page.keyboard.press("Tab")
        page.keyboard.type("keyboard@example.org")
        page.keyboard.press("Tab")
        page.keyboard.type("AB1 2CD")
        page.keyboard.press("Tab")
        assert focused_id(page) == "id_country"
        page.keyboard.type("United Kingdom")
        assert page.locator("#id_country").input_value() == "GB"
        tab_to("id_consent_open-press-fund")
        page.keyboard.press("Space")
        tab_until("el.type === 'submit'")
        page.keyboard.press("Enter")

        page.wait_for_url("**/thanks/")
        signature = Signature.objects.select_related("person").get()
        assert signature.person.email == "keyboard@example.org"
        assert signature.person.country == "GB"
        event = ConsentEvent.objects.select_related(
            "subscription__mailing_list__organisation"
        ).get()
        assert event.subscription.mailing_list.organisation.slug == "open-press-fund"


class TestAccessibility:
    def test_the_petition_page_has_no_serious_wcag_violations(
        self, live_server: Any, page: Any, petition: Petition
    ) -> None:
        page.goto(page_url(live_server, petition))

        assert serious_violations(page) == []

    def test_the_error_state_has_no_serious_wcag_violations(
        self, live_server: Any, page: Any, petition: Petition
    ) -> None:
        page.goto(page_url(live_server, petition))
        page.get_by_role("button", name="Sign the petition").click()
        page.wait_for_selector("#error-summary")

        assert serious_violations(page) == []

    def test_the_thank_you_page_has_no_serious_wcag_violations(
        self, live_server: Any, page: Any, petition: Petition
    ) -> None:
        page.goto(page_url(live_server, petition))
        fill_form(page, "charlie@example.org")
        page.get_by_role("button", name="Sign the petition").click()
        page.wait_for_url("**/thanks/")

        assert serious_violations(page) == []

    def test_the_check_itself_catches_an_unlabelled_field(
        self, live_server: Any, page: Any, petition: Petition
    ) -> None:
        page.goto(page_url(live_server, petition))
        page.evaluate(
            "document.querySelector('.sign-form').insertAdjacentHTML("
            "'afterbegin', '<input type=\"text\" name=\"unlabelled\">')"
        )

        assert any(v.startswith("label ") for v in serious_violations(page))
