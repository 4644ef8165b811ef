"""Owners manage their organisation's staff at /staff/team/: Osman, owner of Open Press,
adds Nadia as a campaigner (a password is shown once), makes her a viewer, takes her role
away; he cannot leave Open Press without an owner; every change is in the audit log;
nobody else reaches the page or another organisation's team."""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.test import Client

from groundswell.members.models import AuditAction, AuditEntry
from groundswell.orgs.models import Organisation, Role, StaffRole
from tests import cast
from tests.cast import signed_in as client_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def osman(open_press: Organisation) -> Client:
    return client_of(cast.make_staff("osman", organisation=open_press, role="owner"))


def roles_at(org: Organisation) -> dict[str, str]:
    return dict(StaffRole.objects.filter(organisation=org).values_list("user__username", "role"))


class TestTheTeamPage:
    def test_it_lists_the_organisation_s_staff_and_their_roles(
        self, osman: Client, open_press: Organisation, action_fund: Organisation
    ) -> None:
        cast.make_staff("carla", "carla@example.org", organisation=open_press)
        cast.make_staff("fay", "fay@example.org", organisation=action_fund)
        page = osman.get("/staff/team/")
        text = page.content.decode()
        assert page.status_code == 200
        assert "osman" in text and "carla" in text
        assert "fay" not in text and "Open Press Action Fund" not in text

    def test_an_owner_adds_someone_new_who_can_sign_in_with_the_password_shown(
        self, osman: Client, open_press: Organisation
    ) -> None:
        page = osman.post(
            f"/staff/team/{open_press.slug}/grant/",
            {"username": "nadia", "email": "nadia@example.org", "role": "campaigner"},
        )
        assert page.status_code == 200
        assert "nadia is now campaigner of Open Press" in page.content.decode()
        password = page.context["new_password"]
        assert authenticate(username="nadia", password=password) is not None
        assert roles_at(open_press)["nadia"] == Role.CAMPAIGNER
        entry = AuditEntry.objects.get(action=AuditAction.ROLE_GRANTED)
        assert (entry.actor, entry.organisation, entry.ip_address) == (
            "staff:osman",
            open_press,
            "127.0.0.1",
        )

    def test_an_owner_changes_a_role_and_takes_it_away(
        self, osman: Client, open_press: Organisation
    ) -> None:
        cast.make_staff("carla", "carla@example.org", organisation=open_press)
        osman.post(f"/staff/team/{open_press.slug}/grant/", {"username": "carla", "role": "viewer"})
        assert roles_at(open_press)["carla"] == Role.VIEWER
        osman.post(f"/staff/team/{open_press.slug}/remove/", {"username": "carla"})
        assert "carla" not in roles_at(open_press)
        assert list(
            AuditEntry.objects.order_by("pk").values_list("action", "details__previous")
        ) == [(AuditAction.ROLE_GRANTED, "campaigner"), (AuditAction.ROLE_REMOVED, "viewer")]

    def test_it_never_leaves_an_organisation_without_an_owner(
        self, osman: Client, open_press: Organisation
    ) -> None:
        removed = osman.post(f"/staff/team/{open_press.slug}/remove/", {"username": "osman"})
        demoted = osman.post(
            f"/staff/team/{open_press.slug}/grant/", {"username": "osman", "role": "viewer"}
        )
        for page in (removed, demoted):
            assert page.status_code == 400
            assert "needs at least one owner" in page.content.decode()
        assert roles_at(open_press) == {"osman": Role.OWNER}

    def test_it_offers_the_only_owner_no_change_it_would_refuse(
        self, osman: Client, open_press: Organisation
    ) -> None:
        alone = osman.get("/staff/team/").content.decode()
        assert "osman is the only owner, so their role can be neither changed" in alone
        assert "Take away osman's role" not in alone
        assert 'value="osman"' not in alone
        cast.make_staff("olga", "olga@example.org", organisation=open_press, role="owner")
        two = osman.get("/staff/team/").content.decode()
        assert "the only owner" not in two
        assert "Take away osman's role" in two and "Take away olga's role" in two

    def test_it_says_what_is_wrong_with_the_form(
        self, osman: Client, open_press: Organisation
    ) -> None:
        bad = osman.post(
            f"/staff/team/{open_press.slug}/grant/", {"username": "a b", "role": "emperor"}
        )
        assert bad.status_code == 400
        new = osman.post(
            f"/staff/team/{open_press.slug}/grant/", {"username": "nobody", "role": "viewer"}
        )
        assert new.status_code == 400
        assert "Someone new needs an email address." in new.content.decode()
        assert not User.objects.filter(username__in=["a b", "nobody"]).exists()

    @pytest.mark.parametrize("role", ["campaigner", "viewer"])
    def test_it_answers_404_to_everyone_but_owners(
        self, role: str, open_press: Organisation
    ) -> None:
        client = client_of(cast.make_staff("someone", organisation=open_press, role=role))
        assert client.get("/staff/team/").status_code == 404
        grant = client.post(
            f"/staff/team/{open_press.slug}/grant/", {"username": "someone", "role": "owner"}
        )
        assert grant.status_code == 404
        assert roles_at(open_press) == {"someone": role}

    def test_an_owner_of_one_organisation_cannot_touch_another_s_team(
        self, osman: Client, action_fund: Organisation
    ) -> None:
        response = osman.post(
            f"/staff/team/{action_fund.slug}/grant/",
            {"username": "osman", "role": "owner"},
        )
        assert response.status_code == 404
        assert roles_at(action_fund) == {}
