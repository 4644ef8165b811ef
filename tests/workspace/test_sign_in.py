"""Staff sign in at /staff/login/ (the admin too), failures are audited and throttle
the account from that address, and the admin is for installation administrators."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from groundswell.members.models import AuditAction, AuditEntry
from groundswell.orgs.models import Organisation, Role, StaffRole
from groundswell.workspace.signin import FAILURES_PER_ACCOUNT

pytestmark = pytest.mark.django_db

PASSWORD = "Long-enough-pass-99"


@pytest.fixture
def olga(open_press: Organisation) -> User:
    user = User.objects.create_user("olga", "olga@example.org", PASSWORD)
    StaffRole.objects.create(user=user, organisation=open_press, role=Role.CAMPAIGNER)
    return user


def attempt(password: str, address: str = "203.0.113.5", username: str = "olga") -> object:
    return Client(REMOTE_ADDR=address).post(
        "/staff/login/", {"username": username, "password": password, "next": "/staff/"}
    )


class TestSignIn:
    def test_it_signs_staff_in_and_records_it_with_the_address(self, olga: User):
        response = attempt(PASSWORD)
        assert response.status_code == 302 and response["Location"] == "/staff/"
        entry = AuditEntry.objects.get(action=AuditAction.STAFF_SIGNED_IN)
        assert (entry.actor, entry.ip_address) == ("staff:olga", "203.0.113.5")

    def test_it_refuses_a_wrong_password_and_records_the_username_only(self, olga: User):
        response = attempt("not-the-password")
        assert response.status_code == 400
        assert "do not match" in response.content.decode()
        entry = AuditEntry.objects.get(action=AuditAction.STAFF_SIGN_IN_FAILED)
        assert entry.details == {"username": "olga"}
        assert "not-the-password" not in str(entry.details) + entry.actor

    def test_it_pauses_an_account_after_repeated_failures_even_for_the_right_password(
        self, olga: User
    ):
        for _ in range(FAILURES_PER_ACCOUNT - 1):
            assert attempt("guess").status_code == 400
        locked = attempt("guess")
        assert locked.status_code == 429
        assert "Too many failed attempts" in locked.content.decode()
        assert int(locked["Retry-After"]) > 0
        assert attempt(PASSWORD).status_code == 429

    def test_it_pauses_only_that_account_from_that_address(self, olga: User):
        for _ in range(FAILURES_PER_ACCOUNT):
            attempt("guess")
        assert attempt(PASSWORD, address="198.51.100.7").status_code == 302

    def test_a_success_starts_the_count_again(self, olga: User):
        for _ in range(FAILURES_PER_ACCOUNT - 1):
            attempt("guess")
        assert attempt(PASSWORD).status_code == 302
        assert attempt("guess").status_code == 400

    def test_it_goes_nowhere_outside_the_site_after_signing_in(self, olga: User):
        response = Client().post(
            "/staff/login/",
            {"username": "olga", "password": PASSWORD, "next": "https://evil.example/"},
        )
        assert response["Location"] == "/staff/"

    def test_sign_out_ends_the_session_and_is_recorded(self, olga: User):
        client = Client()
        client.force_login(olga)
        assert client.post("/staff/logout/").status_code == 302
        assert client.get("/staff/").status_code == 302
        assert AuditEntry.objects.filter(action=AuditAction.STAFF_SIGNED_OUT).count() == 1

    def test_a_staff_request_keeps_the_session_for_the_idle_time(self, olga: User, settings):
        client = Client()
        client.force_login(olga)
        response = client.get("/staff/")
        assert response.cookies["sessionid"]["max-age"] == settings.SESSION_COOKIE_AGE == 1800


class TestTheAdmin:
    def test_it_sends_visitors_to_the_staff_sign_in(self, db):
        response = Client().get("/admin/", follow=True)
        assert response.redirect_chain[-1][0].startswith("/staff/login/?next=")

    def test_it_answers_404_to_staff_who_are_not_administrators(self, olga: User):
        client = Client()
        client.force_login(olga)
        assert client.get("/admin/", follow=True).status_code == 404
        assert client.get("/admin/members/person/", follow=True).status_code == 404

    def test_it_opens_for_an_administrator(self, db):
        root = User.objects.create_superuser("root", "", PASSWORD)
        client = Client()
        client.force_login(root)
        assert client.get("/admin/").status_code == 200
