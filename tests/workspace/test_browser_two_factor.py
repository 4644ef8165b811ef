"""Two-factor sign-in in chromium: an administrator is sent to set up an app, scans (here:
reads) the secret, confirms it with a code, keeps the recovery codes, and next time
signs in with a code after the password."""

from __future__ import annotations

import time
from base64 import b32decode
from typing import Any

import pytest
from django_otp.oath import TOTP

from tests.cast import PASSWORD, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Looked at by eye after a change to these pages.
SCREENSHOT = "/tmp/twofactor.png"


def code_for(letters: str, steps_ahead: int = 0) -> str:
    totp = TOTP(b32decode(letters.replace(" ", "")))
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


def submit_password(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/staff/login/?next=/staff/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")


def test_an_administrator_sets_up_an_app_and_signs_in_with_its_code(
    live_server: Any, page: Any, settings: Any
) -> None:
    settings.STAFF_REQUIRE_2FA = True
    make_staff("alice", superuser=True)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    submit_password(page, live_server.url)
    page.wait_for_url("**/staff/account/two-factor/?next=*")
    assert page.locator(".qr-code svg").is_visible()
    secret = page.locator("#two-factor-secret").inner_text()
    page.screenshot(path=SCREENSHOT, full_page=True)
    page.fill("#id_otp_token", code_for(secret))
    page.click("text=Turn on two-factor sign-in")
    page.wait_for_selector("text=Your recovery codes")
    assert page.locator(".recovery-codes li").count() == 10
    page.screenshot(path=SCREENSHOT.replace(".png", "-codes.png"), full_page=True)
    page.click("text=I have kept them: carry on")
    page.wait_for_url(f"{live_server.url}/staff/")

    page.click(".sign-out button")
    page.wait_for_url("**/staff/login/")
    submit_password(page, live_server.url)
    page.wait_for_url("**/staff/login/code/")
    page.fill("#id_otp_token", code_for(secret, steps_ahead=1))
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/staff/")
    assert page.locator(".workspace-user").inner_text() == "alice"
    assert errors == []
