"""An import in chromium, as a campaigner meets it: upload a sheet with a bad row, see
the first rows and the problem before anything happens, import, and download the
refused rows; every step fits a phone."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from groundswell.members.models import Person
from tests.browsing import sign_in
from tests.cast import make_org

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/groundswell-screenshots")
SHEET = (
    "Email address,First name,Last name,Postcode,Country\n"
    "nadia@example.org,Nadia,Nour,LS6 1AA,GB\n"
    "omar@example.org,Omar,Osei,M1 2AB,GB\n"
    "pat-at-example,Pat,Page,,GB\n"
)


def fits(page: Any, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    page.wait_for_function(f"() => document.documentElement.scrollWidth <= {width}", timeout=5_000)


def test_a_campaigner_imports_a_sheet_with_a_bad_row_and_gets_the_report(
    live_server: Any, page: Any, tmp_path: Path
) -> None:
    make_org()
    SHOTS.mkdir(exist_ok=True)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, live_server.url, "/staff/imports/")
    page.set_input_files(
        "#id_file", files=[{"name": "stall.csv", "mimeType": "text/csv", "buffer": SHEET.encode()}]
    )
    page.select_option("#id_mailing_list", label="Open Press: Supporters")
    page.fill("#id_consent_text", "Yes, Open Press may email me about the library.")
    page.fill("#id_source", "library stall, 3 May")
    page.click("text=Upload and check")
    page.wait_for_selector("#import-problems")
    assert "pat-at-example" in page.locator("#import-problems").inner_text()
    assert page.locator("#column-email").input_value() == "0"
    assert not Person.objects.exists()
    fits(page, 390)
    page.screenshot(path=str(SHOTS / "workspace-import-check-phone.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(SHOTS / "workspace-import-check-desktop.png"), full_page=True)

    page.click("text=Import 2 people")
    page.wait_for_selector("#result-heading")
    figures = page.locator(".figures").inner_text()
    assert "2\nnew people" in figures and "1\nrows refused" in figures
    assert Person.objects.count() == 2
    fits(page, 390)
    page.screenshot(path=str(SHOTS / "workspace-import-done-phone.png"), full_page=True)
    with page.expect_download() as download:
        page.click("text=Download the refused rows")
    saved = tmp_path / "refused.csv"
    download.value.save_as(saved)
    rows = list(csv.reader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
    assert rows[0] == ["line", "email", "reason"]
    assert rows[1][:2] == ["4", "pat-at-example"]
    assert rows[1][2]
    assert errors == []
