"""The dashboard in chromium: its charts are drawn and its figures follow new
signatures without a reload; it fits a phone."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.utils import timezone

from groundswell.petitions.counter import clear_process_cache
from groundswell.petitions.models import Signature
from tests.browsing import sign_in
from tests.cast import make_org, make_person, make_petition

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def points_inside(page: Any, chart: str, half_step: int) -> bool:
    """Whether the chart's axis starts half a step before its first point and ends half
    a step after its last (the points are the page's figures)."""
    key = "by_day" if "daily" in chart else "by_hour"
    return bool(
        page.evaluate(
            """([chart, key, half]) => {
                const stats = JSON.parse(document.getElementById("dashboard-stats").textContent);
                const holder = document.querySelector(chart);
                const at = (row) => {
                    const text = row.day || row.hour;
                    return Date.parse(text.length === 10 ? text + "T12:00:00" : text) / 1000;
                };
                const rows = stats[key];
                return Number(holder.dataset.xFrom) === at(rows[0]) - half
                    && Number(holder.dataset.xTo) === at(rows[rows.length - 1]) + half;
            }""",
            [chart, key, half_step],
        )
    )


def test_the_dashboard_draws_its_charts_and_follows_new_signatures(
    live_server: Any, page: Any, settings: Any
) -> None:
    settings.COUNT_REFRESH_SECONDS = 0
    settings.COUNT_CACHE_SECONDS = 0
    petition = make_petition(sponsors=[make_org()])
    for n in range(3):
        Signature.objects.create(petition=petition, person=make_person(f"p{n}@example.org"))
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    path = f"/staff/petitions/{petition.slug}/"
    sign_in(page, live_server.url, path)
    page.goto(f"{live_server.url}{path}?refresh=2")
    page.wait_for_selector("#chart-daily canvas")
    page.wait_for_selector("#chart-hourly canvas")
    assert page.locator("[data-stat=total]").inner_text() == "3"
    # The time axes reach half a bar past the first and last points: no bar is cut,
    # and the one day of signatures gets an axis of a day, not of years.
    for chart, half_step in (("#chart-daily", 43200), ("#chart-hourly", 1800)):
        assert points_inside(page, chart, half_step), chart
    # Their ticks read as the site writes times: a 24-hour clock and month-day, with
    # the day (or year) where it changes; uPlot's own would say "4pm" and "12/3". The
    # day's tick stands under its bar (uPlot's would stand at midnight, beside it).
    hourly = (page.get_attribute("#chart-hourly", "data-x-labels") or "").split(" | ")
    assert all(re.fullmatch(r"\d\d:\d\d(\n\d\d-\d\d)?", label) for label in hourly), hourly
    assert "\n" in hourly[0], hourly
    today = timezone.localdate()
    daily = page.get_attribute("#chart-daily", "data-x-labels")
    assert daily == f"{today:%m-%d}\n{today:%Y}", daily
    for n in range(3, 5):
        Signature.objects.create(petition=petition, person=make_person(f"p{n}@example.org"))
    clear_process_cache()
    page.wait_for_function(
        "() => document.querySelector('[data-stat=total]').textContent === '5'", timeout=15_000
    )
    # The rankings follow too: five signers, none of whom gave a country.
    page.wait_for_function(
        "() => document.querySelector('#countries tbody td.num').textContent === '5'",
        timeout=15_000,
    )
    assert page.locator("#countries tbody td").first.inner_text() == "not given"
    page.set_viewport_size({"width": 390, "height": 844})
    # The charts redraw at the new width when the window says it has resized.
    page.wait_for_function("() => document.documentElement.scrollWidth <= 390", timeout=5_000)
    assert errors == []
