"""Coalition partners share the installation, never each other's mailings or members.

Fieldstone Action sends its mailing to its members list (Bob is on it); Open Press has
its own supporters and its own mailing. Olga is a campaigner of Open Press, Vic a viewer
of Fieldstone, Carla a campaigner of Fieldstone.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from groundswell.mailings.models import Mailing, MailingStatus
from groundswell.members.models import Person
from groundswell.orgs.models import MailingList, Organisation
from tests import cast
from tests.cast import signed_in as client_of
from tests.mailings.test_compose_pages import form_data

pytestmark = pytest.mark.django_db

MAILING_PAGES = [
    "mailings:detail",
    "mailings:edit",
    "mailings:preview",
    "mailings:preview-html",
    "mailings:progress",
    "mailings:unknown",
    "reports:mailing",
    "reports:mailing-csv",
]
MAILING_BUTTONS = [
    "mailings:edit",
    "mailings:test-send",
    "mailings:send",
    "mailings:schedule",
    "mailings:unschedule",
    "mailings:pause",
    "mailings:resume",
    "mailings:cancel",
    "mailings:unknown-sent",
    "mailings:unknown-again",
]


@pytest.fixture
def open_press(db: Any) -> Organisation:
    return cast.make_org()


@pytest.fixture
def their_mailing(open_press: Organisation) -> Mailing:
    petition = cast.make_petition("open-press-petition", sponsors=[open_press])
    return cast.make_mailing(
        open_press, cast.default_list(open_press), subject="Open Press news", petition=petition
    )


@pytest.fixture
def olga(open_press: Organisation) -> Client:
    return client_of(cast.make_staff("olga", organisation=open_press, role="campaigner"))


@pytest.fixture
def vic(fieldstone: Organisation) -> Client:
    return client_of(cast.make_staff("vic", organisation=fieldstone, role="viewer"))


@pytest.fixture
def carla(fieldstone: Organisation) -> Client:
    return client_of(cast.make_staff("carla", organisation=fieldstone, role="campaigner"))


class TestAnotherOrganisationsMailing:
    def test_it_is_not_in_the_list(
        self, olga: Client, mailing: Mailing, their_mailing: Mailing
    ) -> None:
        text = olga.get("/staff/mailings/").content.decode()
        assert "Open Press news" in text
        assert mailing.subject not in text

    @pytest.mark.parametrize("name", MAILING_PAGES)
    def test_its_pages_answer_404_as_if_it_did_not_exist(
        self, olga: Client, mailing: Mailing, name: str
    ) -> None:
        assert olga.get(reverse(name, args=[mailing.pk])).status_code == 404
        assert olga.get(reverse(name, args=[mailing.pk + 1000])).status_code == 404

    @pytest.mark.parametrize("name", MAILING_BUTTONS)
    def test_its_buttons_answer_404_and_change_nothing(
        self, olga: Client, mailing: Mailing, bob: Person, name: str
    ) -> None:
        data = {"confirmed": "1", "send_at": "2030-01-01T10:00", "expected": 1}
        data.update({"addresses": "olga@example.org"})
        assert olga.post(reverse(name, args=[mailing.pk]), data).status_code == 404
        mailing.refresh_from_db()
        assert mailing.status == MailingStatus.DRAFT
        assert mailing.started_at is None


class TestComposing:
    def test_it_offers_only_the_users_organisations_lists_and_petitions(
        self, olga: Client, open_press: Organisation, members_list: MailingList, petition: Any
    ) -> None:
        form = olga.get("/staff/mailings/new/").context["form"]
        assert list(form.fields["organisation"].queryset) == [open_press]
        assert members_list not in form.fields["include_lists"].queryset
        assert petition not in form.fields["petition"].queryset
        assert petition not in form.fields["only_signers_of"].queryset

    def test_it_refuses_a_mailing_to_another_organisations_list(
        self, olga: Client, open_press: Organisation, members_list: MailingList, bob: Person
    ) -> None:
        data = form_data(open_press, cast.default_list(open_press))
        data["include_lists"] = [members_list.pk]
        response = olga.post("/staff/mailings/new/", data)
        assert response.status_code == 200
        assert "include_lists" in response.context["form"].errors
        assert not Mailing.objects.filter(organisation=open_press).exists()

    def test_it_refuses_to_send_as_another_organisation(
        self, olga: Client, fieldstone: Organisation, members_list: MailingList
    ) -> None:
        response = olga.post("/staff/mailings/new/", form_data(fieldstone, members_list))
        assert "organisation" in response.context["form"].errors
        assert not Mailing.objects.exists()


class TestViewer:
    def test_it_sees_the_mailing_and_its_report_without_buttons(
        self, vic: Client, mailing: Mailing
    ) -> None:
        text = vic.get(f"/staff/mailings/{mailing.pk}/").content.decode()
        assert mailing.subject in text
        assert "Send now" not in text
        assert "Test send" not in text
        assert "/edit/" not in text
        assert "New mailing" not in vic.get("/staff/mailings/").content.decode()

    def test_it_cannot_write_send_or_see_who_is_in_doubt(
        self, vic: Client, mailing: Mailing, fieldstone: Organisation, members_list: MailingList
    ) -> None:
        assert vic.get("/staff/mailings/new/").status_code == 404
        assert (
            vic.post(f"/staff/mailings/{mailing.pk}/send/", {"confirmed": "1"}).status_code == 404
        )
        assert vic.get(f"/staff/mailings/{mailing.pk}/unknown/").status_code == 404
        assert Mailing.objects.get(pk=mailing.pk).status == MailingStatus.DRAFT

    def test_it_cannot_preview_as_a_member(
        self, vic: Client, mailing: Mailing, bob: Person
    ) -> None:
        response = vic.get(f"/staff/mailings/{mailing.pk}/preview/html/?email=bob@example.org")
        assert "Bob" not in response.content.decode()


class TestPreviewAsAMember:
    def test_it_finds_a_member_of_the_mailings_organisation(
        self, carla: Client, mailing: Mailing, bob: Person
    ) -> None:
        response = carla.get(f"/staff/mailings/{mailing.pk}/preview/html/?email=bob@example.org")
        assert "Bob" in response.content.decode()

    def test_it_does_not_find_someone_only_another_organisation_knows(
        self, carla: Client, mailing: Mailing, open_press: Organisation
    ) -> None:
        stranger = cast.make_person("olive@example.org", "Olive", "Elsewhere")
        cast.subscribe(stranger, cast.default_list(open_press))
        page = carla.get(f"/staff/mailings/{mailing.pk}/preview/?email=olive@example.org")
        assert "No member has the address" in page.content.decode()
        html = carla.get(f"/staff/mailings/{mailing.pk}/preview/html/?email=olive@example.org")
        assert "Olive" not in html.content.decode()
