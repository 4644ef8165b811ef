"""The mailing pages and their report, drawn in the admin's look, lead an organisation's
staff back to the workspace: every link in their header and breadcrumbs opens for
Carla, a campaigner of Open Press. (The admin's own home, /admin/, is a 404 to her.)"""

from __future__ import annotations

import re

import pytest

from groundswell.orgs.models import Organisation
from tests.cast import default_list, make_mailing, make_staff, signed_in, staff_client

pytestmark = pytest.mark.django_db


def header_links(html: str) -> list[str]:
    """The addresses linked from the page's header and breadcrumbs (all before the
    content)."""
    top = html.split('id="content"', 1)[0]
    return re.findall(r'<a href="(/[^"]*)"', top)


def test_its_header_and_breadcrumbs_lead_a_campaigner_only_where_she_may_go(
    open_press: Organisation,
) -> None:
    carla = staff_client("carla", open_press)
    mailing = make_mailing(open_press, default_list(open_press))
    pages = [
        "/staff/mailings/",
        "/staff/mailings/new/",
        f"/staff/mailings/{mailing.pk}/",
        f"/staff/reports/mailings/{mailing.pk}/",
    ]
    for page in pages:
        html = carla.get(page).content.decode()
        links = header_links(html)
        assert "/staff/" in links and "/staff/mailings/" in links, (page, links)
        assert "Sign out" in html.split('id="content"', 1)[0], page
        for link in links:
            assert not link.startswith("/admin/"), (page, link)
            assert carla.get(link).status_code == 200, (page, link)


def test_an_installation_administrator_also_finds_the_administration(
    open_press: Organisation,
) -> None:
    admin = signed_in(make_staff("ada", superuser=True))
    links = header_links(admin.get("/staff/mailings/").content.decode())
    assert "/admin/" in links and "/staff/" in links
    assert admin.get("/admin/").status_code == 200
