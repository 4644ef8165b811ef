"""The compose form's checks: errors tied to their fields, the default sender, the lists rule.

Alice (staff at Fieldstone Action) writes; each rule lives in one place and is
checked here through what she sees or what the database keeps.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from groundswell.mailings.actions.send import SendError, do_schedule_send, do_start_send
from groundswell.mailings.models import Mailing, MailingStatus
from groundswell.orgs.models import MailingList, Organisation
from tests.mailings.test_compose_pages import form_data

pytestmark = pytest.mark.django_db


def attributes(html: str, element_id: str) -> str:
    match = re.search(rf'<[^>]*\bid="{element_id}"[^>]*>', html)
    assert match, f"no element with id {element_id}"
    return match[0]


class TestErrors:
    def test_it_sums_up_the_errors_and_ties_each_to_its_field(
        self, alice_client: Client, fieldstone: Organisation, members_list: MailingList
    ) -> None:
        data = form_data(
            fieldstone, members_list, subject="Hi {{ password }}", countries="GB, Narnia"
        )
        response = alice_client.post("/staff/mailings/new/", data)
        html = response.content.decode()
        assert response.status_code == 200
        summary = html[
            html.index('id="error-summary"') : html.index(
                "</div>", html.index('id="error-summary"')
            )
        ]
        assert 'role="alert"' in attributes(html, "error-summary")
        assert 'href="#id_subject"' in summary
        assert 'href="#id_countries"' in summary
        assert "Unknown merge field" in summary
        subject = attributes(html, "id_subject")
        assert 'aria-invalid="true"' in subject
        assert 'aria-describedby="id_subject-error"' in subject
        assert 'id="id_subject-error"' in html
        # A field with help text keeps it described alongside the error.
        countries = attributes(html, "id_countries")
        assert 'aria-describedby="id_countries-error id_countries_helptext"' in countries
        assert 'id="id_countries_helptext"' in html
        assert not Mailing.objects.exists()

    def test_it_shows_no_summary_on_a_fresh_form(self, alice_client: Client, db: Any) -> None:
        html = alice_client.get("/staff/mailings/new/").content.decode()
        assert 'id="error-summary"' not in html
        assert 'aria-invalid="true"' not in html

    def test_it_names_the_list_fields_as_groups_not_labels_for_nothing(
        self, alice_client: Client, fieldstone: Organisation, members_list: MailingList
    ) -> None:
        data = form_data(fieldstone, members_list)
        del data["include_lists"]
        html = alice_client.post("/staff/mailings/new/", data).content.decode()
        assert 'label for=""' not in html
        assert 'role="group" aria-labelledby="id_include_lists-label"' in html
        assert 'href="#id_include_lists"' in html


class TestDefaultSender:
    def test_an_edit_that_empties_the_sender_gets_the_organisations_again(
        self, alice_client: Client, mailing: Mailing, fieldstone: Organisation, members_list: Any
    ) -> None:
        Mailing.objects.filter(pk=mailing.pk).update(from_name="Someone Else")
        data = form_data(fieldstone, members_list, from_name="", from_email="")
        response = alice_client.post(f"/staff/mailings/{mailing.pk}/edit/", data)
        assert response.status_code == 302
        mailing.refresh_from_db()
        assert (mailing.from_name, mailing.from_email) == (
            "Marisol Whitcombe",
            "updates@fieldstone.example",
        )


class TestListsRequired:
    def test_sending_and_scheduling_refuse_a_mailing_without_lists(self, mailing: Mailing) -> None:
        mailing.include_lists.clear()
        with pytest.raises(SendError, match="Choose at least one list"):
            do_start_send(mailing)
        with pytest.raises(SendError, match="Choose at least one list"):
            do_schedule_send(mailing, timezone.now() + timedelta(hours=1))
        assert Mailing.objects.get(pk=mailing.pk).status == MailingStatus.DRAFT
