"""Confirming a signature by email in chromium: sign, read the email, open its link,
press the button, and the signature counts."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail

from groundswell.members.models import ConsentEvent
from groundswell.petitions.models import Petition, Signature, SignatureStatus
from tests.petitions.test_browser_signing import fill_form, page_url, serious_violations
from tests.waiting import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def confirmation_link() -> str:
    wait_until(lambda: len(mail.outbox) == 1, message="the confirmation email")
    [link] = re.findall(r"http://[^\s]+/sign/confirm/[^/\s]+/", mail.outbox[0].body)
    return link


class TestConfirmingInChromium:
    def test_it_counts_the_signature_once_the_signer_presses_the_button(
        self, live_server: Any, page: Any, petition: Petition, settings: Any
    ) -> None:
        settings.SIGN_CONFIRM_BY_EMAIL = True
        settings.BASE_URL = live_server.url
        page.goto(page_url(live_server, petition))
        fill_form(page, "charlie@example.org")
        page.get_by_label("Tick this box to let Open Press email you").check()
        page.get_by_role("button", name="Sign the petition").click()

        page.wait_for_url("**/check-email/")
        assert page.get_by_role("heading", level=1).inner_text() == "Check your email"
        assert serious_violations(page) == []
        assert "charlie@example.org" not in page.content()
        assert Signature.objects.get().status == SignatureStatus.PENDING

        page.goto(confirmation_link())
        assert page.get_by_text("Cancel the contract").first.is_visible()
        assert serious_violations(page) == []
        # Opening the page (as a mail scanner would) changed nothing.
        assert Signature.objects.get().status == SignatureStatus.PENDING
        assert not ConsentEvent.objects.exists()

        page.get_by_role("button", name="Confirm my signature").click()

        page.wait_for_url("**/thanks/")
        assert page.get_by_role("heading", level=1).inner_text() == "Thank you for signing"
        signature = Signature.objects.get()
        assert signature.status == SignatureStatus.VALID
        assert signature.confirmed_at is not None
        assert ConsentEvent.objects.count() == 1
        wait_until(lambda: len(mail.outbox) == 2, message="the thank-you email")
        assert mail.outbox[1].subject == "Thank you for signing: Cancel the contract"
