"""The demo's mailbox viewer shows caught mail as text: a subject, a sender's name, a
header or a plain-text body holding markup is escaped; the HTML part runs only in its
sandbox. Hostile names in the URL are a 404."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from hypothesis import given

from groundswell.mailbox import store
from tests.hostile.strategies import (
    MARKUP,
    assert_answered_safely,
    fuzz,
    hostile_query_value,
    hostile_segment,
)

pytestmark = pytest.mark.usefixtures("demo_urls")


@pytest.fixture
def mail_dir(settings: Any, tmp_path: Path) -> Path:
    settings.DATA_DIR = tmp_path
    return tmp_path / "mail"


@pytest.fixture
def staff(alice: User) -> Client:
    client = Client()
    client.force_login(alice)
    return client


def hostile_email_bytes(markup: str) -> bytes:
    message = EmailMessage()
    message["From"] = f'"{markup}" <updates@fieldstone.example>'
    message["To"] = "bob@example.org"
    message["Subject"] = markup
    message["X-Note"] = markup
    message.set_content(f"Dear {markup},\n\nPlease sign.\n")
    message.add_alternative(f"<p>Dear {markup}</p>", subtype="html")
    return message.as_bytes()


class TestTheViewer:
    def test_it_shows_what_a_message_says_as_text(self, staff: Client, mail_dir: Path) -> None:
        for markup in MARKUP:
            path = store.save_message(
                hostile_email_bytes(markup),
                mail_from=f"x{markup}@example.org",
                rcpt_tos=[f"{markup}\r\nX-Injected: 1"],
            )
            for url in ("/staff/mailbox/", f"/staff/mailbox/{path.name}/"):
                response = staff.get(url)
                assert response.status_code == 200
                assert_answered_safely(response, url)
            html = staff.get(f"/staff/mailbox/{path.name}/html/")
            assert html["Content-Security-Policy"].startswith("sandbox")
            raw = staff.get(f"/staff/mailbox/{path.name}/raw/")
            assert raw["Content-Type"].startswith("text/plain")
            assert raw["Content-Security-Policy"].startswith("sandbox")
            # The envelope's line break did not make a header of its own.
            assert b"\r\nX-Injected: 1" not in path.read_bytes().split(b"\r\n\r\n")[0]

    @fuzz
    @given(name=hostile_segment(), page=hostile_query_value())
    def test_hostile_names_and_pages_are_not_found(
        self, staff: Client, mail_dir: Path, name: str, page: str
    ) -> None:
        assert_answered_safely(staff.get(f"/staff/mailbox/?page={page}"), "list")
        for suffix in ("", "html/", "raw/"):
            url = f"/staff/mailbox/{name}/{suffix}"
            response = staff.get(url)
            assert_answered_safely(response, url)
            assert response.status_code in (404, 301, 302), (url, response.status_code)
