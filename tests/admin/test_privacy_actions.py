"""Staff answer a person's request for their data, or its erasure, from the admin."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from groundswell.members.actions.suppression import is_suppressed
from groundswell.members.models import AuditEntry, Person
from groundswell.petitions.models import Signature

CHANGELIST = "/admin/members/person/"


class TestExportAction:
    def test_it_downloads_everything_about_the_selected_people_and_audits_it(
        self, alice_client: Client, campaign: dict[str, Any]
    ) -> None:
        bob = campaign["bob"]
        response = alice_client.post(
            CHANGELIST, {"action": "export_data", "_selected_action": [bob.pk]}
        )
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith("attachment")
        data = json.loads(response.content)
        assert data[0]["profile"]["email"] == "Bob@Example.org"
        assert data[0]["signatures"][0]["comment"] == "Dig less!"
        entry = AuditEntry.objects.get(action="exported")
        assert (entry.actor, entry.person) == ("admin:alice", bob)


class TestEraseAction:
    def test_it_asks_to_confirm_first_and_changes_nothing(
        self, alice_client: Client, campaign: dict[str, Any]
    ) -> None:
        bob = campaign["bob"]
        response = alice_client.post(
            CHANGELIST, {"action": "erase_data", "_selected_action": [bob.pk]}
        )
        assert response.status_code == 200
        assert b"Yes, erase them" in response.content
        assert Person.objects.filter(pk=bob.pk).exists()

    def test_it_erases_on_confirmation_keeping_the_signature_and_the_suppression(
        self, alice_client: Client, campaign: dict[str, Any]
    ) -> None:
        bob = campaign["bob"]
        response = alice_client.post(
            CHANGELIST,
            {"action": "erase_data", "_selected_action": [bob.pk], "confirmed": "yes"},
        )
        assert response.status_code == 302
        assert not Person.objects.filter(pk=bob.pk).exists()
        signature = Signature.objects.get(pk=campaign["signature"].pk)
        assert signature.person is None
        assert signature.comment == ""
        assert is_suppressed("bob@example.org")
        assert AuditEntry.objects.get(action="erased").actor == "admin:alice"
