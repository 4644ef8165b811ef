from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from groundswell.orgs.models import Organisation
from groundswell.petitions.actions.signing import SignatureDetails, do_sign_petition
from groundswell.petitions.models import Petition
from tests.cast import make_petition

JSON_URL = "/sign/cancel-the-contract.json"


@pytest.mark.django_db
class TestPetitionJson:
    def test_it_follows_the_contract(
        self, client: Client, petition: Petition, exact_counts: None
    ) -> None:
        do_sign_petition(
            petition, SignatureDetails(email="bob@example.org", first_name="Bob", last_name="M")
        )

        response = client.get(JSON_URL)

        assert response.status_code == 200
        assert response["Content-Type"] == "application/json"
        data = json.loads(response.content)
        assert set(data) == {"slug", "title", "status", "signature_count", "goal", "updated_at"}
        assert data["slug"] == "cancel-the-contract"
        assert data["title"] == "Cancel the contract"
        assert data["status"] == "open"
        assert data["signature_count"] == 1
        assert data["goal"] == 1000
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", data["updated_at"])

    def test_it_lets_a_cdn_hold_it_for_a_few_seconds(
        self, client: Client, petition: Petition
    ) -> None:
        response = client.get(JSON_URL)

        cache_control = response["Cache-Control"]
        assert "public" in cache_control
        max_age = re.search(r"max-age=(\d+)", cache_control)
        assert max_age is not None and 1 <= int(max_age[1]) <= 10
        assert "stale-while-revalidate=" in cache_control
        assert not response.cookies
        assert "Cookie" not in response.get("Vary", "")

    def test_it_agrees_with_the_page(self, client: Client, petition: Petition) -> None:
        for n in range(3):
            do_sign_petition(
                petition, SignatureDetails(email=f"s{n}@example.org", first_name="S", last_name="T")
            )

        data = json.loads(client.get(JSON_URL).content)
        html = client.get("/sign/cancel-the-contract/").content.decode()

        assert f'<span class="count-value" data-count>{data["signature_count"]}</span>' in html
        assert data["signature_count"] == 3

    def test_it_reports_a_closed_petition(self, client: Client, open_press: Organisation) -> None:
        make_petition(sponsors=[open_press], status="closed")

        assert json.loads(client.get(JSON_URL).content)["status"] == "closed"
