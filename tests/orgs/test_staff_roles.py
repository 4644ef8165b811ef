from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.http import Http404

from groundswell.members.models import AuditAction, AuditEntry
from groundswell.orgs.access import (
    Permission,
    can,
    is_staff_user,
    organisation_ids,
    require,
)
from groundswell.orgs.models import Organisation, Role, StaffRole


def staff_user(*args: str) -> list[str]:
    out = StringIO()
    call_command("staff_user", *args, stdout=out)
    return out.getvalue().strip().splitlines()


class TestTheStaffUserCommand:
    def test_it_creates_a_user_with_a_role_and_prints_a_password_that_works(
        self, open_press: Organisation
    ):
        lines = staff_user("maria", "--org", open_press.slug, "--role", "campaigner")
        assert authenticate(username="maria", password=lines[-1]) is not None
        role = StaffRole.objects.get(user__username="maria")
        assert (role.organisation, role.role) == (open_press, Role.CAMPAIGNER)
        entry = AuditEntry.objects.get(action=AuditAction.ROLE_GRANTED)
        assert entry.organisation == open_press
        assert entry.details["user"] == "maria"

    def test_it_records_a_changed_role_with_the_one_it_replaced(self, open_press: Organisation):
        staff_user("maria", "--org", open_press.slug, "--role", "viewer")
        staff_user("maria", "--org", open_press.slug, "--role", "campaigner")
        staff_user("maria", "--org", open_press.slug, "--role", "campaigner")
        changes = [
            (e.details["previous"], e.details["role"])
            for e in AuditEntry.objects.filter(action=AuditAction.ROLE_GRANTED).order_by("pk")
        ]
        assert changes == [("", "viewer"), ("viewer", "campaigner")]

    def test_it_takes_the_password_from_the_environment_when_set(
        self, open_press: Organisation, monkeypatch: pytest.MonkeyPatch
    ):
        monkeypatch.setenv("GROUNDSWELL_PASSWORD", "Long-enough-and-odd-77")
        lines = staff_user("maria", "--org", open_press.slug, "--role", "viewer")
        assert "Long-enough-and-odd-77" not in "\n".join(lines)
        assert authenticate(username="maria", password="Long-enough-and-odd-77") is not None

    def test_it_refuses_a_weak_password_from_the_environment(
        self, open_press: Organisation, monkeypatch: pytest.MonkeyPatch
    ):
        monkeypatch.setenv("GROUNDSWELL_PASSWORD", "password")
        with pytest.raises(CommandError, match="too weak"):
            staff_user("maria", "--org", open_press.slug, "--role", "viewer")
        assert not User.objects.filter(username="maria").exists()

    def test_it_adds_a_role_in_another_organisation_without_a_new_password(
        self, open_press: Organisation, action_fund: Organisation
    ):
        first = staff_user("maria", "--org", open_press.slug, "--role", "owner")
        second = staff_user("maria", "--org", action_fund.slug, "--role", "viewer")
        assert first[-1] not in "\n".join(second)
        assert dict(
            StaffRole.objects.filter(user__username="maria").values_list(
                "organisation__slug", "role"
            )
        ) == {open_press.slug: Role.OWNER, action_fund.slug: Role.VIEWER}

    def test_it_makes_an_installation_administrator(self, db):
        lines = staff_user("root", "--superuser")
        user = authenticate(username="root", password=lines[-1])
        assert user is not None and user.is_superuser

    def test_it_names_the_known_organisations_when_the_slug_is_wrong(
        self, open_press: Organisation
    ):
        with pytest.raises(CommandError, match=open_press.slug):
            staff_user("maria", "--org", "nope", "--role", "viewer")


class TestAccess:
    @pytest.fixture
    def maria(self, open_press: Organisation, action_fund: Organisation) -> User:
        staff_user("maria", "--org", open_press.slug, "--role", "campaigner")
        staff_user("maria", "--org", action_fund.slug, "--role", "viewer")
        return User.objects.get(username="maria")

    def test_it_grants_by_role_in_each_organisation(
        self, maria: User, open_press: Organisation, action_fund: Organisation
    ):
        assert can(maria, open_press.pk, Permission.PEOPLE)
        assert can(maria, action_fund.pk, Permission.FIGURES)
        assert not can(maria, action_fund.pk, Permission.PEOPLE)
        assert not can(maria, open_press.pk, Permission.MANAGE_STAFF)
        assert organisation_ids(maria, Permission.WRITE) == {open_press.pk}

    def test_it_answers_404_for_what_the_user_may_not_see(
        self, maria: User, action_fund: Organisation
    ):
        with pytest.raises(Http404):
            require(maria, action_fund.pk, Permission.WRITE)

    def test_it_lets_an_administrator_do_everything(self, action_fund: Organisation):
        root = User.objects.create_superuser("root", "", "Whatever-it-is-12")
        assert can(root, action_fund.pk, Permission.MANAGE_STAFF)
        assert action_fund.pk in organisation_ids(root, Permission.PEOPLE)

    def test_it_does_not_count_a_user_without_roles_as_staff(self, db):
        nobody = User.objects.create_user("nobody", "", "Whatever-it-is-12")
        assert not is_staff_user(nobody)
        assert organisation_ids(nobody) == frozenset()
