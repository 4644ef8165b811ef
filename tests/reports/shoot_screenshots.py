"""Screenshot of the mailing report for docs/reports.md.

Not part of the test run (the name does not start with test_). Take it with:

    .venv/bin/pytest tests/reports/shoot_screenshots.py -p no:cacheprovider

then look at docs/screenshots/report-mailing.png before committing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browsing import sign_in
from tests.reports.realistic import make_realistic_mailing

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def test_shoot(live_server: Any, browser: Any) -> None:
    mailing = make_realistic_mailing()
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, live_server.url, f"/staff/reports/mailings/{mailing.pk}/")
    page.wait_for_selector("#report-chart canvas")
    OUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUT / "report-mailing.png"), full_page=True)
    page.close()
