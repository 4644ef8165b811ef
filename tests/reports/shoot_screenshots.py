"""Screenshot of the mailing report for docs/reports.md.

Not part of the test run (the name does not start with test_). Take it with:

    .venv/bin/pytest tests/reports/shoot_screenshots.py -p no:cacheprovider

then look at docs/screenshots/report-mailing.png before committing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User

from tests.reports.realistic import make_realistic_mailing

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def test_shoot(live_server: Any, browser: Any) -> None:
    mailing = make_realistic_mailing()
    User.objects.create_user("alice", "alice@example.org", "a long staff password", is_staff=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/admin/login/?next=/staff/reports/mailings/{mailing.pk}/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", "a long staff password")
    page.click("input[type=submit]")
    page.wait_for_selector("#report-chart canvas")
    OUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUT / "report-mailing.png"), full_page=True)
    page.close()
