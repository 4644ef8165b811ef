"""The staff side in chromium: a campaigner writes, previews and publishes a petition
without the admin; an export downloads and parses; the delivery PDF downloads; failed
sign-ins are paused with a clear message."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from groundswell.orgs.models import Organisation
from groundswell.petitions.models import Petition, PetitionStatus, Signature
from tests.browsing import sign_in
from tests.cast import default_list, make_org, make_person, make_petition, make_staff, subscribe

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def campaigner(org: Organisation) -> None:
    make_staff("carla", "carla@example.org", organisation=org, role="campaigner")


def test_a_campaigner_writes_previews_and_publishes_a_petition(live_server: Any, page: Any) -> None:
    org = make_org()
    campaigner(org)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, live_server.url, "/staff/", username="carla", create=False)
    page.click("text=New petition")
    page.fill("#id_title", "Keep the Riverside Library open")
    page.fill("#id_target", "the city council")
    page.fill("#id_statement", "Keep the Riverside Library open six days a week.")
    page.fill("#id_background", "Hours are to be cut[^1].\n\n[^1]: Budget paper.")
    page.click("text=Save the draft")
    page.wait_for_url("**/staff/petitions/keep-the-riverside-library-open/edit/")
    # The previews load lazily, below the editor's fields: bring them into view.
    page.locator("iframe.preview-phone").scroll_into_view_if_needed()
    preview = page.frame_locator("iframe.preview-phone")
    assert "Staff preview (draft)" in preview.locator(".preview-banner").inner_text()
    assert "Keep the Riverside Library open" in preview.locator("h1").inner_text()
    page.click("text=Publish: open it for signatures")
    page.wait_for_selector("text=Status: open")
    assert Petition.objects.get().status == PetitionStatus.OPEN
    page.goto(f"{live_server.url}/sign/keep-the-riverside-library-open/")
    assert "Keep the Riverside Library open" in page.locator("h1").inner_text()
    assert errors == []


def test_an_export_and_the_delivery_download_from_the_dashboard(
    live_server: Any, page: Any, tmp_path: Path
) -> None:
    org = make_org()
    campaigner(org)
    petition = make_petition(sponsors=[org])
    for n, comment in enumerate(["=SUM(A1:A9)", "Because it matters"]):
        person = make_person(
            f"signer{n}@example.org", f"Signer{n}", "Example", postal_code="N1 9GU"
        )
        subscribe(person, default_list(org))
        Signature.objects.create(petition=petition, person=person, comment=comment)
    sign_in(
        page, live_server.url, f"/staff/petitions/{petition.slug}/", username="carla", create=False
    )

    with page.expect_download() as export:
        page.click("text=plain CSV")
    rows = list(csv.DictReader(io.StringIO(Path(export.value.path()).read_text("utf-8"))))
    assert sorted(r["email"] for r in rows) == ["signer0@example.org", "signer1@example.org"]
    assert "'=SUM(A1:A9)" in [r["comment"] for r in rows]

    with page.expect_download() as delivery:
        page.click("text=PDF with comments")
    assert delivery.value.suggested_filename == f"{petition.slug}-delivery.pdf"
    assert Path(delivery.value.path()).read_bytes().startswith(b"%PDF")


def test_failed_sign_ins_are_paused_with_a_clear_message(live_server: Any, page: Any) -> None:
    campaigner(make_org())
    page.goto(f"{live_server.url}/staff/login/")
    statuses = []
    for _ in range(6):
        page.fill("#id_username", "carla")
        page.fill("#id_password", "not-her-password")
        with page.expect_navigation() as answer:
            page.click("button[type=submit]")
        statuses.append(answer.value.status)
    assert statuses[:4] == [400] * 4 and statuses[-1] == 429
    assert "Too many failed attempts" in page.locator("[role=alert]").inner_text()


def test_the_lists_team_and_audit_pages_fit_a_phone(live_server: Any, page: Any) -> None:
    """Their tables scroll inside themselves; nothing pushes the page sideways (a hidden
    column heading once did, positioned against the page instead of its table)."""
    org = make_org()
    make_staff("olive", "olive@example.org", organisation=org, role="owner")
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server.url, "/staff/lists/", username="olive", create=False)
    for path in ("/staff/lists/", "/staff/team/", "/staff/audit/"):
        page.goto(f"{live_server.url}{path}")
        overflow = page.evaluate(
            "() => document.scrollingElement.scrollWidth - document.scrollingElement.clientWidth"
        )
        assert overflow <= 0, path


def test_the_staff_pages_own_styles_refine_the_sites(live_server: Any, page: Any) -> None:
    """workspace.css comes after site.css: a rule of its own (the space under the staff
    bar) is not undone by the site's rule of the same weight for `.wrap`."""
    org = make_org()
    make_staff("olive", "olive@example.org", organisation=org, role="owner")
    sign_in(page, live_server.url, "/staff/", username="olive", create=False)

    padding = page.eval_on_selector(".wrap.workspace", "e => getComputedStyle(e).paddingTop")

    assert padding == "20px"  # 1.25rem in workspace.css; site.css's .wrap says 0
