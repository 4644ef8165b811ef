"""The report page in chromium: the chart is drawn, and its legend hides and shows lines."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browsing import sign_in
from tests.reports.realistic import make_realistic_mailing

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_chart_draws_and_the_legend_toggles_machine_clicks(live_server: Any, page: Any):
    mailing = make_realistic_mailing(recipients=300)
    sign_in(page, live_server.url, f"/staff/reports/mailings/{mailing.pk}/")
    page.wait_for_selector("#report-chart canvas")
    legend = page.locator(".u-legend .u-series", has_text="Machine clicks")
    assert "u-off" in (legend.get_attribute("class") or "")
    legend.click()
    assert "u-off" not in (legend.get_attribute("class") or "")
    assert page.locator("#report-chart canvas").bounding_box()["width"] > 300
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.reload()
    page.wait_for_selector("#report-chart canvas")
    assert errors == []


def test_a_fresh_mailings_chart_spans_minutes_not_years(live_server: Any, page: Any, tmp_path: Any):
    mailing = make_realistic_mailing(recipients=200, age_hours=0.5)
    sign_in(page, live_server.url, f"/staff/reports/mailings/{mailing.pk}/")
    page.wait_for_selector("#report-chart canvas")
    holder = page.locator("#report-chart")
    span = float(holder.get_attribute("data-x-to")) - float(holder.get_attribute("data-x-from"))
    assert 10 * 60 <= span <= 60 * 60  # about the half hour of events, not months
    page.set_viewport_size({"width": 1100, "height": 900})
    assert "per minute" in page.locator(".report-chart figcaption").inner_text()
    page.locator(".report-chart").screenshot(path=str(tmp_path / "fresh-chart.png"))


def test_a_chart_of_two_minutes_labels_each_tick_with_its_own_minute(live_server: Any, page: Any):
    mailing = make_realistic_mailing(recipients=100, age_hours=2 / 60)
    sign_in(page, live_server.url, f"/staff/reports/mailings/{mailing.pk}/")
    page.wait_for_selector("#report-chart canvas")

    labels = page.locator("#report-chart").get_attribute("data-x-labels").split(" | ")
    times = [label.split("\n")[0] for label in labels]
    assert len(times) >= 2
    assert len(set(times)) == len(times), labels
