"""The pages work in chromium under their Content-Security-Policy (the other browser
tests bypass it to run their own scripts): the petition page signs and its script
runs, the thank-you page offers its copy button, the dashboard draws its charts, and
the browser reports no violation anywhere."""

from __future__ import annotations

from typing import Any

import pytest

from groundswell.petitions.models import Signature
from tests.browsing import sign_in
from tests.cast import make_org, make_person, make_petition

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_pages_work_under_their_policy(live_server: Any, strict_page: Any) -> None:
    page, violations = strict_page
    petition = make_petition(sponsors=[make_org()])
    for n in range(3):
        Signature.objects.create(petition=petition, person=make_person(f"p{n}@example.org"))

    page.goto(f"{live_server.url}/sign/{petition.slug}/")
    assert page.locator(".progress-bar").bounding_box()["width"] > 0
    page.get_by_label("First name", exact=True).fill("Charlie")
    page.get_by_label("Last name").fill("Stranger")
    page.get_by_label("Email address").fill("charlie@example.org")
    page.get_by_label("Postal code").fill("AB1 2CD")
    page.get_by_label("Country", exact=True).select_option("GB")
    page.get_by_role("button", name="Sign the petition").click()
    page.wait_for_url("**/thanks/")
    # Shown by site.js: scripts from our files run.
    page.get_by_role("button", name="Copy link").wait_for(state="visible")

    path = f"/staff/petitions/{petition.slug}/"
    sign_in(page, live_server.url, path)
    page.wait_for_selector("#chart-daily canvas")
    page.wait_for_selector("#chart-hourly canvas")

    assert violations == []
