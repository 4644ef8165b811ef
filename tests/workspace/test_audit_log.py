"""The audit log at /staff/audit/: Osman, owner of Open Press, reads what Open Press's
staff did and from where; the Action Fund's entries are not his to read; campaigners
and viewers get 404; administrators read everything; nobody changes an entry."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from groundswell.mailings.models import Mailing, MailingStatus
from groundswell.members.models import AuditAction, AuditEntry
from groundswell.orgs.models import Organisation
from tests import cast
from tests.cast import signed_in as client_of

pytestmark = pytest.mark.django_db


def sending(org: Organisation, subject: str) -> Mailing:
    petition = cast.make_petition(f"petition-of-{org.slug}", sponsors=[org])
    mailing = cast.make_mailing(org, cast.default_list(org), subject=subject, petition=petition)
    Mailing.objects.filter(pk=mailing.pk).update(status=MailingStatus.SENDING)
    return mailing


@pytest.fixture
def osman(open_press: Organisation) -> Client:
    return client_of(cast.make_staff("osman", organisation=open_press, role="owner"))


@pytest.fixture
def history(open_press: Organisation, action_fund: Organisation) -> dict[str, Mailing]:
    """Carla (Open Press) pauses its mailing from 198.51.100.7; Fay (the Fund) pauses
    the Fund's from 203.0.113.9; both signed in through the sign-in page."""
    carla = cast.make_staff("carla", organisation=open_press, role="campaigner")
    fay = cast.make_staff("fay", organisation=action_fund, role="campaigner")
    theirs = {"open_press": sending(open_press, "Ours"), "fund": sending(action_fund, "Theirs")}
    for user, address, mailing in (
        (carla, "198.51.100.7", theirs["open_press"]),
        (fay, "203.0.113.9", theirs["fund"]),
    ):
        client = Client(REMOTE_ADDR=address)
        client.post("/staff/login/", {"username": user.username, "password": cast.PASSWORD})
        assert client.post(f"/staff/mailings/{mailing.pk}/pause/").status_code == 302
    return theirs


def rows(page: Any) -> list[tuple[str, str, str | None]]:
    return [(e.actor, e.action, e.ip_address) for e in page.context["page"].object_list]


class TestTheAuditLog:
    def test_it_shows_an_owner_what_his_organisation_s_staff_did_and_from_where(
        self, osman: Client, history: dict[str, Mailing]
    ) -> None:
        page = osman.get("/staff/audit/")
        assert page.status_code == 200
        assert set(rows(page)) == {
            ("staff:carla", AuditAction.MAILING_PAUSED, "198.51.100.7"),
            ("staff:carla", AuditAction.STAFF_SIGNED_IN, "198.51.100.7"),
        }
        text = page.content.decode()
        assert "Mailing paused" in text and "198.51.100.7" in text
        assert "fay" not in text and "203.0.113.9" not in text

    def test_it_filters_by_action_by_who_and_by_day(
        self, osman: Client, history: dict[str, Mailing]
    ) -> None:
        paused = osman.get("/staff/audit/", {"action": AuditAction.MAILING_PAUSED})
        assert [r[1] for r in rows(paused)] == [AuditAction.MAILING_PAUSED]
        assert rows(osman.get("/staff/audit/", {"actor": "nobody"})) == []
        assert len(rows(osman.get("/staff/audit/", {"since": "2000-01-01"}))) == 2
        assert rows(osman.get("/staff/audit/", {"until": "2000-01-01"})) == []

    def test_it_says_what_it_did_not_understand(self, osman: Client) -> None:
        page = osman.get("/staff/audit/", {"since": "last tuesday", "action": "dance"})
        assert page.status_code == 400
        text = page.content.decode()
        assert "is not a date like 2026-12-31" in text
        assert "There is no action called" in text

    def test_it_shows_an_administrator_everything(self, history: dict[str, Mailing]) -> None:
        admin = client_of(cast.make_staff("root", superuser=True))
        actors = {actor for actor, _, _ in rows(admin.get("/staff/audit/"))}
        assert actors == {"staff:carla", "staff:fay"}

    @pytest.mark.parametrize("role", ["campaigner", "viewer"])
    def test_it_answers_404_to_anyone_but_owners_and_administrators(
        self, role: str, open_press: Organisation, history: dict[str, Mailing]
    ) -> None:
        client = client_of(cast.make_staff("someone", organisation=open_press, role=role))
        assert client.get("/staff/audit/").status_code == 404
        assert "Audit log" not in client.get("/staff/").content.decode()

    def test_it_links_from_the_owner_s_navigation(self, osman: Client) -> None:
        assert 'href="/staff/audit/"' in osman.get("/staff/").content.decode()

    def test_no_page_can_change_or_remove_an_entry(
        self, osman: Client, history: dict[str, Mailing]
    ) -> None:
        before = list(AuditEntry.objects.values_list("pk", "action", "actor"))
        assert osman.post("/staff/audit/", {"action": "x"}).status_code == 405
        admin = client_of(cast.make_staff("root", superuser=True))
        entry = AuditEntry.objects.first()
        assert entry is not None
        admin.post(f"/admin/members/auditentry/{entry.pk}/delete/", {"post": "yes"})
        admin.post(f"/admin/members/auditentry/{entry.pk}/change/", {"actor": "forged"})
        assert list(AuditEntry.objects.values_list("pk", "action", "actor")) == before
