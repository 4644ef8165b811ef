"""A member opens their personal link in chromium: greeted by first name, signs in one click."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from groundswell.lib.tokens import make_member_token
from groundswell.members.models import Person
from groundswell.petitions.models import Petition, Signature
from tests.cast import make_person
from tests.petitions.test_browser_signing import serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def katy(petition: Petition) -> Person:
    return make_person("katy@example.org", "Katy", "Lindqvist", postal_code="LS1 4AP", country="GB")


class TestRecognisedMemberInChromium:
    def test_it_greets_katy_and_signs_with_one_click(
        self, live_server: Any, page: Any, petition: Petition, katy: Person
    ) -> None:
        token = make_member_token(katy.pk, 12)
        page.goto(f"{live_server.url}/sign/{petition.slug}/?akid={token}&t=7")
        assert page.get_by_text("Not Katy? Click here.").is_visible()
        content = page.content()
        assert "katy@example.org" not in content
        assert "Lindqvist" not in content
        assert serious_violations(page) == []
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "recognised-member.png"), full_page=True)

        page.get_by_role("button", name="Sign the petition").click()
        page.wait_for_url("**/thanks/")
        signature = Signature.objects.get()
        assert signature.person_id == katy.pk
        assert (signature.mailing_id, signature.link_number) == (12, 7)

    def test_not_katy_shows_the_full_form_and_stays_forgotten(
        self, live_server: Any, page: Any, petition: Petition, katy: Person
    ) -> None:
        page.goto(f"{live_server.url}/sign/{petition.slug}/?akid={make_member_token(katy.pk)}")
        page.get_by_role("link", name="Not Katy? Click here.").click()
        page.wait_for_load_state()
        assert page.get_by_label("Email address").is_visible()
        assert "Katy" not in page.content()
        page.goto(f"{live_server.url}/sign/{petition.slug}/")
        assert page.get_by_label("Email address").is_visible()
        assert not Signature.objects.exists()
