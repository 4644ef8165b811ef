"""The trust page in chromium, under its Content-Security-Policy, as Olga (campaigner of
the lead sponsor) meets a flood: the flooding network stands out, its "review" link
fills in the form, the preview counts it, one click invalidates it and one undoes it;
the hourly chart is drawn and the page fits a phone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from groundswell.orgs.models import Organisation
from groundswell.petitions.models import Petition, Signature, SignatureStatus
from tests.browsing import sign_in
from tests.cast import make_staff
from tests.workspace.test_trust import FLOOD_NETWORK

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/groundswell-screenshots")


def test_olga_finds_a_flood_invalidates_it_and_undoes_it(
    live_server: Any, strict_page: Any, flooded: Petition, open_press: Organisation
) -> None:
    page, problems = strict_page
    page.set_viewport_size({"width": 1280, "height": 900})
    SHOTS.mkdir(exist_ok=True)
    make_staff("olga", organisation=open_press)
    trust = f"/staff/petitions/{flooded.slug}/trust/"
    sign_in(page, live_server.url, trust, username="olga", create=False)
    page.wait_for_selector("#chart-trust-hours .uplot")
    flood_row = page.locator("#networks tr.outlier")
    assert FLOOD_NETWORK in flood_row.inner_text()
    assert "unusual" in flood_row.inner_text().lower()

    flood_row.locator("a.review").click()
    page.wait_for_url("**network=*")
    assert page.locator("#id_network").input_value() == FLOOD_NETWORK
    page.click("button[name=preview]")
    page.wait_for_selector("#preview")
    assert "40 valid signatures would be invalidated" in page.locator("#preview").inner_text()
    page.fill("#id_reason", "One address, forty signatures in a minute")
    page.locator("#id_reason").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "workspace-trust-desktop.png"), full_page=True)

    page.click("text=Invalidate 40 signatures")
    page.wait_for_selector("text=40 signatures invalidated")
    assert Signature.objects.filter(status=SignatureStatus.INVALIDATED).count() == 40
    page.set_viewport_size({"width": 390, "height": 900})
    page.wait_for_function("() => document.documentElement.scrollWidth <= 390", timeout=5_000)
    page.screenshot(path=str(SHOTS / "workspace-trust-phone.png"), full_page=True)

    page.click("#batches button:text('Undo')")
    page.wait_for_selector("text=40 signatures count again")
    assert not Signature.objects.filter(status=SignatureStatus.INVALIDATED).exists()
    assert problems == []


def test_the_trending_page_lists_the_flooded_petition_first(
    live_server: Any, strict_page: Any, flooded: Petition, open_press: Organisation
) -> None:
    page, problems = strict_page
    page.set_viewport_size({"width": 1280, "height": 900})
    make_staff("olga", organisation=open_press)
    sign_in(page, live_server.url, "/staff/trending/", username="olga", create=False)
    first = page.locator("#trending tbody tr").first
    assert flooded.title in first.inner_text()
    assert "trending" in first.inner_text().lower()
    page.screenshot(path=str(SHOTS / "workspace-trending-desktop.png"), full_page=True)
    assert problems == []
