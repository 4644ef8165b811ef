"""Staff compose pages: list, create, edit, preview, send controls; staff only."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from groundswell.mailings.models import Mailing, MailingStatus
from groundswell.members.models import Person
from groundswell.orgs.models import MailingList, Organisation
from groundswell.petitions.models import Petition
from tests.cast import make_org, staff_client

pytestmark = pytest.mark.django_db


def form_data(org: Organisation, mailing_list: MailingList, **changes: Any) -> dict[str, Any]:
    data = {
        "organisation": org.pk,
        "from_name": "",
        "from_email": "",
        "reply_to": "",
        "subject": "Tell Microsoft: stop enabling ICE",
        "subject_b": "",
        "ab_sample_percent": 10,
        "ab_metric": "clicks",
        "ab_wait_minutes": 120,
        "preheader": "",
        "body": 'Dear {{ first_name|default:"friend" }},\n\nPlease sign.',
        "petition": "",
        "signoff_name": "Marisol Whitcombe",
        "signoff_title": "",
        "signoff_organisation": "",
        "include_lists": [mailing_list.pk],
        "countries": "",
        "postal_code_prefix": "",
        "rate_limit": "",
    }
    data.update(changes)
    return data


class TestStaffOnly:
    @pytest.mark.parametrize("path", ["/staff/mailings/", "/staff/mailings/new/"])
    def test_it_sends_strangers_to_the_login_page(self, path: str, db: Any) -> None:
        response = Client().get(path)
        assert response.status_code == 302
        assert "/staff/login/" in response["Location"]

    def test_it_keeps_strangers_from_sending(self, mailing: Mailing) -> None:
        response = Client().post(f"/staff/mailings/{mailing.pk}/send/")
        assert response.status_code == 302
        assert Mailing.objects.get(pk=mailing.pk).status == MailingStatus.DRAFT


class TestList:
    def test_it_lists_mailings_with_status(self, alice_client: Client, mailing: Mailing) -> None:
        response = alice_client.get("/staff/mailings/")
        assert response.status_code == 200
        assert "Tell Microsoft: stop enabling ICE" in response.content.decode()
        assert "draft" in response.content.decode()


class TestCreate:
    def test_it_creates_a_draft_with_the_organisations_sender(
        self, alice_client: Client, fieldstone: Organisation, members_list: MailingList
    ) -> None:
        response = alice_client.post("/staff/mailings/new/", form_data(fieldstone, members_list))
        mailing = Mailing.objects.get()
        assert response.status_code == 302
        assert response["Location"] == f"/staff/mailings/{mailing.pk}/"
        assert mailing.from_name == "Marisol Whitcombe"
        assert mailing.from_email == "updates@fieldstone.example"
        assert list(mailing.include_lists.all()) == [members_list]
        assert mailing.created_by is not None and mailing.created_by.username == "alice"

    def test_it_chooses_the_organisation_of_staff_who_write_for_one(self) -> None:
        fieldstone = make_org("Fieldstone Action", "fieldstone")
        make_org("Harbourlight", "harbourlight")
        client = staff_client("carla", fieldstone)

        page = client.get("/staff/mailings/new/").content.decode()

        choices = page.split('name="organisation"')[1].split("</select>")[0]
        assert "---------" not in choices
        assert f'<option value="{fieldstone.pk}" selected>Fieldstone Action</option>' in choices
        assert "Harbourlight" not in choices

    def test_it_asks_staff_who_write_for_several_to_choose(self, alice_client: Client) -> None:
        make_org("Fieldstone Action", "fieldstone")
        make_org("Harbourlight", "harbourlight")

        page = alice_client.get("/staff/mailings/new/").content.decode()

        choices = page.split('name="organisation"')[1].split("</select>")[0]
        assert '<option value="" selected>---------</option>' in choices

    @pytest.mark.parametrize(
        "field, value, message",
        [
            ("body", "Hi {{ password }}", "Unknown merge field"),
            ("body", "{% load static %}", "Template tags"),
            ("subject", "Hi {{ first_name|safe }}", "Unknown filter"),
            ("subject", "{{ petition_url }}", "is a link"),
            ("body", "[Sign]({{ petition_url }})", "choose the mailing"),
            ("countries", "GB, Narnia", "not a two-letter country code"),
        ],
    )
    def test_it_explains_what_is_wrong(
        self,
        alice_client: Client,
        fieldstone: Organisation,
        members_list: MailingList,
        field: str,
        value: str,
        message: str,
    ) -> None:
        data = form_data(fieldstone, members_list, **{field: value})
        response = alice_client.post("/staff/mailings/new/", data)
        assert response.status_code == 200
        assert message in response.content.decode().replace("&#x27;", "'")
        assert not Mailing.objects.exists()


class TestEdit:
    def test_it_changes_a_draft(
        self, alice_client: Client, mailing: Mailing, fieldstone: Organisation, members_list: Any
    ) -> None:
        data = form_data(fieldstone, members_list, subject="A better subject")
        response = alice_client.post(f"/staff/mailings/{mailing.pk}/edit/", data)
        assert response.status_code == 302
        assert Mailing.objects.get(pk=mailing.pk).subject == "A better subject"

    def test_it_refuses_to_change_a_mailing_being_sent(
        self, alice_client: Client, mailing: Mailing, fieldstone: Organisation, members_list: Any
    ) -> None:
        Mailing.objects.filter(pk=mailing.pk).update(status=MailingStatus.SENDING)
        data = form_data(fieldstone, members_list, subject="Changed mid-send")
        alice_client.post(f"/staff/mailings/{mailing.pk}/edit/", data)
        assert Mailing.objects.get(pk=mailing.pk).subject == "Tell Microsoft: stop enabling ICE"


class TestDetail:
    def test_it_shows_how_many_would_receive_it(
        self, alice_client: Client, mailing: Mailing, bob: Person, zoe: Person
    ) -> None:
        response = alice_client.get(f"/staff/mailings/{mailing.pk}/")
        assert response.status_code == 200
        assert "2 recipients if sent now" in response.content.decode()
        assert f'action="/staff/mailings/{mailing.pk}/send/"' in response.content.decode()


class TestPreview:
    def test_it_shows_the_mailing_as_a_member_gets_it(
        self, alice_client: Client, mailing: Mailing, bob: Person
    ) -> None:
        page = alice_client.get(f"/staff/mailings/{mailing.pk}/preview/?email=BOB@example.org")
        text = page.content.decode()
        assert "Dear Bob," in text  # the text part, on the page
        assert f"/staff/mailings/{mailing.pk}/preview/html/?email=BOB%40example.org" in text
        frame = alice_client.get(
            f"/staff/mailings/{mailing.pk}/preview/html/?email=bob@example.org"
        )
        assert "Dear Bob," in frame.content.decode()
        assert "sandbox" in frame["Content-Security-Policy"]
        assert "script-src" not in frame["Content-Security-Policy"]

    def test_it_says_when_no_member_has_the_address(
        self, alice_client: Client, mailing: Mailing, petition: Petition
    ) -> None:
        page = alice_client.get(f"/staff/mailings/{mailing.pk}/preview/?email=nobody@example.org")
        text = page.content.decode()
        assert "No member has the address nobody@example.org" in text
        assert "Dear friend," in text


class TestSendControls:
    def test_the_send_button_asks_again_with_the_count_sender_and_subject(
        self, alice_client: Client, mailing: Mailing, bob: Person
    ) -> None:
        response = alice_client.post(f"/staff/mailings/{mailing.pk}/send/")
        assert response.status_code == 200
        text = response.content.decode()
        assert "It will go to 1 person at once." in text
        assert mailing.subject in text
        assert mailing.from_email in text
        assert 'name="confirmed" value="1"' in text
        assert Mailing.objects.get(pk=mailing.pk).status == MailingStatus.DRAFT

    def test_the_confirmed_send_starts_the_send(
        self, alice_client: Client, mailing: Mailing, bob: Person
    ) -> None:
        response = alice_client.post(f"/staff/mailings/{mailing.pk}/send/", {"confirmed": "1"})
        assert response.status_code == 302
        mailing.refresh_from_db()
        assert mailing.status in (MailingStatus.SENDING, MailingStatus.SENT)
        assert mailing.recipient_count == 1

    def test_scheduling_asks_again_then_schedules(
        self, alice_client: Client, mailing: Mailing, bob: Person
    ) -> None:
        url = f"/staff/mailings/{mailing.pk}/schedule/"
        when = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
        asked = alice_client.post(url, {"send_at": when}).content.decode()
        assert "it will go to 1 person (counted again then)" in asked
        assert Mailing.objects.get(pk=mailing.pk).status == MailingStatus.DRAFT
        alice_client.post(url, {"send_at": when, "confirmed": "1"})
        assert Mailing.objects.get(pk=mailing.pk).status == MailingStatus.SCHEDULED

    def test_pause_and_cancel_reach_the_send_actions(
        self, alice_client: Client, mailing: Mailing, bob: Person
    ) -> None:
        Mailing.objects.filter(pk=mailing.pk).update(status=MailingStatus.SENDING)
        alice_client.post(f"/staff/mailings/{mailing.pk}/pause/")
        assert Mailing.objects.get(pk=mailing.pk).status == MailingStatus.PAUSED
        alice_client.post(f"/staff/mailings/{mailing.pk}/cancel/")
        assert Mailing.objects.get(pk=mailing.pk).status == MailingStatus.CANCELLED

    def test_a_mailing_still_preparing_its_recipients_can_be_cancelled(
        self, alice_client: Client, mailing: Mailing
    ) -> None:
        Mailing.objects.filter(pk=mailing.pk).update(status=MailingStatus.PREPARING)

        page = alice_client.get(f"/staff/mailings/{mailing.pk}/").content.decode()
        assert "Cancel the send" in page
        assert "status-preparing" in page
        alice_client.post(f"/staff/mailings/{mailing.pk}/cancel/")

        assert Mailing.objects.get(pk=mailing.pk).status == MailingStatus.CANCELLED
