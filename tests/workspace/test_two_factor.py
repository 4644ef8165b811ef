"""Two-factor sign-in: staff with an authenticator app give a code after their password
(or a recovery code, once); wrong codes are failed sign-ins in the password's count;
with STAFF_REQUIRE_2FA on, administrators and owners set up an app before anything
else; the set-up page confirms an app with a code and shows the recovery codes once."""

from __future__ import annotations

import re
import time
from base64 import b32encode
from binascii import unhexlify
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from groundswell.members.models import AuditAction, AuditEntry
from groundswell.orgs.models import Organisation
from groundswell.workspace.actions.twofactor import (
    TwoFactorTurnedOn,
    do_turn_on_two_factor,
    new_secret,
)
from groundswell.workspace.signin import FAILURES_PER_ACCOUNT, PENDING
from groundswell.workspace.twofactor import NEW_APP_KEY
from tests.cast import PASSWORD, make_staff, signed_in

pytestmark = pytest.mark.django_db

ADDRESS = "203.0.113.5"
SET_UP = "/staff/account/two-factor/"


def code_for(secret: str, steps_ahead: int = 0) -> str:
    """What the person's app shows now (or that many 30-second steps later)."""
    totp = TOTP(unhexlify(secret))
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


def wrong_code_for(secret: str) -> str:
    return f"{(int(code_for(secret)) + 500_000) % 1_000_000:06d}"


def turn_on(user: User) -> TwoFactorTurnedOn:
    """An app set up and confirmed (its current code spent: sign-ins use the next)."""
    secret = new_secret()
    turned_on = do_turn_on_two_factor(user, secret, code_for(secret))
    assert turned_on is not None
    return turned_on


def client() -> Client:
    return Client(REMOTE_ADDR=ADDRESS)


def password_step(browser: Client, username: str = "olga", next_url: str = "/staff/") -> Any:
    return browser.post(
        "/staff/login/", {"username": username, "password": PASSWORD, "next": next_url}
    )


def code_step(browser: Client, code: str) -> Any:
    return browser.post("/staff/login/code/", {"otp_token": code})


def is_signed_in(browser: Client) -> bool:
    return "_auth_user_id" in browser.session


@pytest.fixture
def olga(open_press: Organisation) -> User:
    """A campaigner at Open Press."""
    return make_staff("olga", organisation=open_press)


@pytest.fixture
def olgas_app(olga: User) -> TwoFactorTurnedOn:
    return turn_on(olga)


@pytest.fixture
def required(settings: Any) -> None:
    settings.STAFF_REQUIRE_2FA = True


class TestSigningInWithACode:
    def test_the_password_alone_signs_no_one_in(self, olgas_app: TwoFactorTurnedOn):
        browser = client()
        response = password_step(browser)
        assert response.status_code == 302 and response["Location"] == "/staff/login/code/"
        assert not is_signed_in(browser)
        assert browser.get("/staff/")["Location"].startswith("/staff/login/")
        assert not AuditEntry.objects.filter(action=AuditAction.STAFF_SIGNED_IN).exists()

    def test_it_asks_for_the_code_on_its_own_page(self, olgas_app: TwoFactorTurnedOn):
        browser = client()
        password_step(browser)
        page = browser.get("/staff/login/code/")
        assert page.status_code == 200
        assert 'name="otp_token"' in page.content.decode()

    def test_the_admin_is_refused_between_the_two_steps(self, db: None):
        root = make_staff("root", superuser=True)
        turn_on(root)
        browser = client()
        password_step(browser, "root", "/admin/")
        for path in ("/admin/", "/admin/members/person/", "/staff/", "/staff/audit/"):
            response = browser.get(path)
            assert response.status_code == 302, path
            # The admin's own login page, which sends on to the staff sign-in.
            assert re.match(r"/(staff|admin)/login/\?next=", response["Location"]), path
        assert (
            browser.get("/admin/", follow=True)
            .redirect_chain[-1][0]
            .startswith("/staff/login/?next=")
        )

    def test_the_right_code_signs_in_and_goes_where_asked(self, olgas_app: TwoFactorTurnedOn):
        browser = client()
        password_step(browser, next_url="/staff/team/")
        response = code_step(browser, code_for(olgas_app.device.key, steps_ahead=1))
        assert response.status_code == 302 and response["Location"] == "/staff/team/"
        assert browser.get("/staff/").status_code == 200
        entry = AuditEntry.objects.get(action=AuditAction.STAFF_SIGNED_IN)
        assert (entry.actor, entry.ip_address) == ("staff:olga", ADDRESS)
        assert entry.details == {"second_step": "app"}

    def test_a_wrong_code_fails_and_is_recorded_with_the_username(
        self, olgas_app: TwoFactorTurnedOn
    ):
        browser = client()
        password_step(browser)
        response = code_step(browser, wrong_code_for(olgas_app.device.key))
        assert response.status_code == 400
        assert "That code did not work" in response.content.decode()
        assert not is_signed_in(browser)
        entry = AuditEntry.objects.get(action=AuditAction.STAFF_SIGN_IN_FAILED)
        assert entry.details == {"username": "olga", "step": "code"}
        assert entry.ip_address == ADDRESS

    def test_wrong_codes_count_toward_the_pause_with_wrong_passwords(
        self, olgas_app: TwoFactorTurnedOn
    ):
        browser = client()
        client().post("/staff/login/", {"username": "olga", "password": "guess"})
        password_step(browser)
        for _ in range(FAILURES_PER_ACCOUNT - 2):
            assert code_step(browser, "123456x").status_code == 400
        paused = code_step(browser, "1234567")
        assert paused.status_code == 429
        assert int(paused["Retry-After"]) > 0
        assert code_step(browser, code_for(olgas_app.device.key, 1)).status_code == 429
        assert password_step(client()).status_code == 429
        assert not is_signed_in(browser)

    def test_a_password_without_its_code_does_not_start_the_count_again(
        self, olgas_app: TwoFactorTurnedOn
    ):
        for _ in range(FAILURES_PER_ACCOUNT - 1):
            browser = client()
            password_step(browser)
            code_step(browser, "12345x")
        assert password_step(client()).status_code == 302
        browser = client()
        password_step(browser)
        assert code_step(browser, "12345x").status_code == 429

    def test_each_code_from_the_app_works_once(self, olgas_app: TwoFactorTurnedOn):
        code = code_for(olgas_app.device.key, steps_ahead=1)
        first = client()
        password_step(first)
        assert code_step(first, code).status_code == 302
        second = client()
        password_step(second)
        assert code_step(second, code).status_code == 400

    def test_a_recovery_code_signs_in_once(self, olgas_app: TwoFactorTurnedOn):
        recovery = olgas_app.recovery_codes[0]
        typed = f"{recovery[:4].upper()} {recovery[4:].upper()}"
        first = client()
        password_step(first)
        assert code_step(first, typed).status_code == 302
        assert is_signed_in(first)
        entry = AuditEntry.objects.get(action=AuditAction.STAFF_SIGNED_IN)
        assert entry.details == {"second_step": "recovery-code"}
        assert StaticToken.objects.filter(device__user__username="olga").count() == 9
        second = client()
        password_step(second)
        assert code_step(second, recovery).status_code == 400

    def test_the_code_page_without_the_password_sends_to_sign_in(self, db: None):
        response = client().get("/staff/login/code/")
        assert response.status_code == 302
        assert response["Location"].startswith("/staff/login/")

    def test_the_code_step_runs_out_after_a_few_minutes(self, olgas_app: TwoFactorTurnedOn):
        browser = client()
        password_step(browser)
        session = browser.session
        session[PENDING] = {**session[PENDING], "since": time.time() - 3600}
        session.save()
        response = code_step(browser, code_for(olgas_app.device.key, 1))
        assert response["Location"] == "/staff/login/?expired=1"
        assert not is_signed_in(browser)
        assert "took too long" in browser.get(response["Location"]).content.decode()

    def test_a_session_from_before_the_app_must_sign_in_again(self, olga: User):
        browser = signed_in(olga, ADDRESS)
        assert browser.get("/staff/").status_code == 200
        turn_on(olga)
        response = browser.get("/staff/")
        assert response.status_code == 302
        assert response["Location"] == "/staff/login/?next=/staff/"
        assert browser.get(SET_UP).status_code == 302

    def test_staff_without_an_app_still_sign_in_with_a_password(self, olga: User):
        browser = client()
        assert password_step(browser)["Location"] == "/staff/"
        assert browser.get("/staff/").status_code == 200


class TestRequiredForAdministratorsAndOwners:
    def test_an_owner_without_an_app_is_sent_to_set_one_up(
        self, open_press: Organisation, required: None
    ):
        make_staff("olga", organisation=open_press, role="owner")
        browser = client()
        assert password_step(browser)["Location"] == "/staff/"
        for path in ("/staff/", "/staff/team/", "/staff/mailings/", "/staff/audit/"):
            response = browser.get(path)
            assert response.status_code == 302, path
            assert response["Location"].startswith(f"{SET_UP}?next="), path
        assert browser.get(SET_UP).status_code == 200

    def test_an_administrator_without_an_app_cannot_open_the_admin(self, required: None):
        root = make_staff("root", superuser=True)
        browser = signed_in(root, ADDRESS)
        response = browser.get("/admin/members/person/")
        assert response["Location"] == f"{SET_UP}?next=%2Fadmin%2Fmembers%2Fperson%2F"

    def test_the_owner_reaches_the_staff_pages_once_the_app_is_confirmed(
        self, open_press: Organisation, required: None
    ):
        make_staff("olga", organisation=open_press, role="owner")
        browser = client()
        password_step(browser)
        browser.get(SET_UP)
        secret = browser.session[NEW_APP_KEY]
        response = browser.post(SET_UP, {"otp_token": code_for(secret), "next": "/staff/team/"})
        assert response.status_code == 200
        assert 'href="/staff/team/"' in response.content.decode()
        assert browser.get("/staff/team/").status_code == 200

    def test_a_campaigner_without_an_app_is_let_in(self, olga: User, required: None):
        browser = client()
        password_step(browser)
        assert browser.get("/staff/").status_code == 200

    def test_no_one_is_sent_to_set_up_when_it_is_not_required(
        self, open_press: Organisation, settings: Any
    ):
        settings.STAFF_REQUIRE_2FA = False
        make_staff("olga", organisation=open_press, role="owner")
        root = make_staff("root", superuser=True)
        browser = client()
        password_step(browser)
        assert browser.get("/staff/team/").status_code == 200
        admin = signed_in(root, ADDRESS)
        assert admin.get("/admin/").status_code == 200


class TestSettingUp:
    @pytest.fixture
    def browser(self, olga: User) -> Client:
        return signed_in(olga, ADDRESS)

    def test_it_shows_a_qr_code_and_the_secret_to_type_in(self, browser: Client):
        page = browser.get(SET_UP).content.decode()
        secret = browser.session[NEW_APP_KEY]
        assert "<svg" in page
        letters = b32encode(unhexlify(secret)).decode()
        shown = re.search(r'id="two-factor-secret">([A-Z2-7 ]+)<', page)
        assert shown is not None and shown.group(1).replace(" ", "") == letters
        assert browser.get(SET_UP).content.decode().count(shown.group(1)) == 1

    def test_a_code_from_the_app_turns_it_on_and_shows_ten_recovery_codes_once(
        self, browser: Client, olga: User
    ):
        browser.get(SET_UP)
        secret = browser.session[NEW_APP_KEY]
        response = browser.post(SET_UP, {"otp_token": code_for(secret)})
        assert response.status_code == 200
        shown = re.findall(r"<li><code>([a-z2-7]+)</code></li>", response.content.decode())
        stored = StaticToken.objects.filter(device__user=olga).values_list("token", flat=True)
        assert len(shown) == 10 and sorted(shown) == sorted(stored)
        device = TOTPDevice.objects.get(user=olga)
        assert device.confirmed and device.key == secret
        entry = AuditEntry.objects.get(action=AuditAction.TWO_FACTOR_CHANGED)
        assert (entry.actor, entry.details) == ("staff:olga", {"change": "turned-on"})
        again = browser.get(SET_UP).content.decode()
        assert "is on" in again and shown[0] not in again
        # This browser gave the code: it stays signed in.
        assert browser.get("/staff/").status_code == 200

    def test_a_wrong_code_turns_nothing_on(self, browser: Client, olga: User):
        browser.get(SET_UP)
        secret = browser.session[NEW_APP_KEY]
        response = browser.post(SET_UP, {"otp_token": wrong_code_for(secret)})
        assert response.status_code == 400
        assert "did not match" in response.content.decode()
        assert not TOTPDevice.objects.filter(user=olga).exists()
        assert not AuditEntry.objects.filter(action=AuditAction.TWO_FACTOR_CHANGED).exists()
        assert browser.session[NEW_APP_KEY] == secret

    def _set_up(self, browser: Client) -> str:
        browser.get(SET_UP)
        secret = browser.session[NEW_APP_KEY]
        assert browser.post(SET_UP, {"otp_token": code_for(secret)}).status_code == 200
        return secret

    def test_new_recovery_codes_replace_the_old(self, browser: Client, olga: User):
        secret = self._set_up(browser)
        old = set(StaticToken.objects.filter(device__user=olga).values_list("token", flat=True))
        response = browser.post(
            f"{SET_UP}recovery-codes/", {"otp_token": code_for(secret, steps_ahead=1)}
        )
        assert response.status_code == 200
        new = set(StaticToken.objects.filter(device__user=olga).values_list("token", flat=True))
        assert len(new) == 10 and not old & new
        assert all(code in response.content.decode() for code in new)
        assert AuditEntry.objects.filter(details__change="recovery-codes-renewed").count() == 1

    def test_new_recovery_codes_need_a_right_code(self, browser: Client, olga: User):
        self._set_up(browser)
        old = set(StaticToken.objects.filter(device__user=olga).values_list("token", flat=True))
        response = browser.post(f"{SET_UP}recovery-codes/", {"otp_token": "nope"})
        assert response.status_code == 400
        assert (
            set(StaticToken.objects.filter(device__user=olga).values_list("token", flat=True))
            == old
        )

    def test_turning_it_off_takes_a_code_and_the_password_is_enough_again(
        self, browser: Client, olga: User
    ):
        secret = self._set_up(browser)
        recovery = StaticToken.objects.filter(device__user=olga).first()
        assert recovery is not None
        wrong = wrong_code_for(secret)
        assert browser.post(f"{SET_UP}off/", {"otp_token": wrong}).status_code == 400
        assert TOTPDevice.objects.filter(user=olga).exists()
        response = browser.post(f"{SET_UP}off/", {"otp_token": recovery.token})
        assert response.status_code == 200
        assert "is off" in response.content.decode()
        assert not TOTPDevice.objects.filter(user=olga).exists()
        assert not StaticToken.objects.filter(device__user=olga).exists()
        assert AuditEntry.objects.filter(details__change="turned-off").count() == 1
        assert password_step(client())["Location"] == "/staff/"

    def test_visitors_are_sent_to_sign_in(self, db: None):
        response = client().get(SET_UP)
        assert response["Location"].startswith("/staff/login/?next=")
