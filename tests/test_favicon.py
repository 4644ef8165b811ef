"""The site's icon: named by every page of ours, and at /favicon.ico for the pages
that name none (the Django admin's), so no browser meets a 404 for it."""

from __future__ import annotations

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from groundswell.petitions.models import Petition


def test_it_sends_a_browser_asking_for_favicon_ico_to_the_icon(client: Client) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == "/static/favicon.svg"
    assert finders.find("favicon.svg")


@pytest.mark.django_db
def test_the_petition_page_names_the_icon(client: Client, petition: Petition) -> None:
    page = client.get(f"/sign/{petition.slug}/").content.decode()
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
