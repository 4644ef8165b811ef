"""Every staff mailing page fits a phone: at 390 px nothing scrolls sideways (wide
tables scroll inside themselves), with a mailing whose share links are very long."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browsing import sign_in
from tests.reports.realistic import make_realistic_mailing

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_staff_mailing_pages_fit_a_phone(live_server: Any, page: Any) -> None:
    mailing = make_realistic_mailing(recipients=60)
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server.url, "/staff/mailings/")
    for path in [
        "/staff/mailings/",
        f"/staff/mailings/{mailing.pk}/",
        f"/staff/mailings/{mailing.pk}/edit/",
        f"/staff/reports/mailings/{mailing.pk}/",
        "/staff/mailbox/",
    ]:
        page.goto(live_server.url + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} is {width} px wide at 390"
