from __future__ import annotations

import smtplib
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from groundswell.mailbox import store
from groundswell.mailbox.catcher import start_mail_catcher
from tests.conftest import free_port

# Mounted only in the demo (tests/mailbox/conftest.py).
pytestmark = pytest.mark.usefixtures("demo_urls")


@pytest.fixture
def mail_dir(settings: Any, tmp_path: Path) -> Path:
    settings.DATA_DIR = tmp_path
    return tmp_path / "mail"


@pytest.fixture
def staff_client(client: Client, alice: User) -> Client:
    client.force_login(alice)
    return client


def an_email(subject: str, *, html: str | None = None, to: str = "bob@example.org") -> bytes:
    message = EmailMessage()
    message["From"] = "Fieldstone Action <updates@fieldstone.example>"
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = "Mon, 23 Nov 2026 10:00:00 +0000"
    message.set_content("Dear Bob,\n\nPlease sign the petition.\n")
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message.as_bytes()


def catch(subject: str, **kwargs: Any) -> str:
    path = store.save_message(
        an_email(subject, **kwargs), mail_from="bounces@fieldstone.example", rcpt_tos=["bob@x"]
    )
    return path.name


class TestMessageList:
    def test_it_sends_strangers_to_the_staff_login(self, client: Client, mail_dir: Path) -> None:
        response = client.get("/staff/mailbox/")
        assert response.status_code == 302
        assert response["Location"].startswith("/staff/login/")

    def test_it_answers_404_to_anyone_but_an_administrator(
        self, client: Client, mail_dir: Path, db: None
    ) -> None:
        bob = User.objects.create_user("bob", "bob@example.org", "x", is_staff=True)
        client.force_login(bob)
        assert client.get("/staff/mailbox/").status_code == 404

    def test_it_lists_caught_emails_newest_first(
        self, staff_client: Client, mail_dir: Path
    ) -> None:
        catch("Tell Microsoft to stop enabling ICE")
        time.sleep(0.002)  # names sort by the microsecond a message came in: let one pass
        catch("Thank you for signing")
        response = staff_client.get("/staff/mailbox/")
        assert response.status_code == 200
        page = response.content.decode()
        assert page.index("Thank you for signing") < page.index("Tell Microsoft to stop")
        assert "updates@fieldstone.example" in page
        assert "bob@example.org" in page
        assert str(mail_dir) in page

    def test_it_says_when_there_is_no_mail(self, staff_client: Client, mail_dir: Path) -> None:
        response = staff_client.get("/staff/mailbox/")
        assert b"No emails yet" in response.content


class TestMessageDetail:
    def test_it_shows_headers_text_and_a_sandboxed_frame_for_html(
        self, staff_client: Client, mail_dir: Path
    ) -> None:
        name = catch("Dear Bob", html="<p>Please <a href='https://x.example/'>sign</a></p>")
        response = staff_client.get(f"/staff/mailbox/{name}/")
        assert response.status_code == 200
        page = response.content.decode()
        assert "Please sign the petition." in page
        assert "X-Envelope-From" in page
        assert 'sandbox="allow-popups allow-popups-to-escape-sandbox"' in page
        assert f"/staff/mailbox/{name}/html/" in page
        assert f"/staff/mailbox/{name}/raw/" in page

    def test_it_serves_the_html_part_under_a_strict_policy(
        self, staff_client: Client, mail_dir: Path
    ) -> None:
        name = catch("Dear Bob", html="<p>Hello <script>alert(1)</script></p>")
        response = staff_client.get(f"/staff/mailbox/{name}/html/")
        assert response.status_code == 200
        assert b"<p>Hello" in response.content
        policy = response["Content-Security-Policy"]
        assert policy.startswith("sandbox ")
        assert "default-src 'none'" in policy
        assert "img-src data:" in policy and "https:" not in policy
        assert response["X-Frame-Options"] == "SAMEORIGIN"

    def test_it_loads_remote_images_only_when_asked(
        self, staff_client: Client, mail_dir: Path
    ) -> None:
        name = catch("Dear Bob", html="<img src='https://x.example/open.gif'>")
        response = staff_client.get(f"/staff/mailbox/{name}/html/?images=1")
        assert "img-src data: http: https:" in response["Content-Security-Policy"]

    def test_it_says_when_there_is_no_html_part(self, staff_client: Client, mail_dir: Path) -> None:
        name = catch("Plain only")
        assert staff_client.get(f"/staff/mailbox/{name}/html/").status_code == 404
        assert b"<iframe" not in staff_client.get(f"/staff/mailbox/{name}/").content

    def test_it_serves_the_raw_message(self, staff_client: Client, mail_dir: Path) -> None:
        name = catch("Raw please")
        response = staff_client.get(f"/staff/mailbox/{name}/raw/")
        assert response.status_code == 200
        assert response.content == (mail_dir / name).read_bytes()
        assert b"Subject: Raw please" in response.content

    @pytest.mark.parametrize(
        "name", ["nope.eml", "..%2Fsecret_key", "20260101-000000-000000-zz.eml"]
    )
    def test_it_finds_nothing_outside_the_mailbox(
        self, staff_client: Client, mail_dir: Path, name: str
    ) -> None:
        (mail_dir.parent / "secret_key").write_text("not for you")
        assert staff_client.get(f"/staff/mailbox/{name}/raw/").status_code == 404

    def test_it_requires_staff_for_every_view(self, client: Client, mail_dir: Path) -> None:
        name = catch("Private", html="<p>x</p>")
        for suffix in ("", "html/", "raw/"):
            response = client.get(f"/staff/mailbox/{name}/{suffix}")
            assert response.status_code == 302


class TestMailCatcher:
    @pytest.fixture
    def catcher_port(self, mail_dir: Path) -> Iterator[int]:
        port = free_port()
        controller = start_mail_catcher("127.0.0.1", port)
        try:
            yield port
        finally:
            controller.stop()

    def test_it_stores_each_message_it_is_handed(self, catcher_port: int, mail_dir: Path) -> None:
        with smtplib.SMTP("127.0.0.1", catcher_port, timeout=10) as smtp:
            smtp.sendmail("bounces@fieldstone.example", ["bob@example.org"], an_email("One"))
            smtp.sendmail("bounces@fieldstone.example", ["carol@example.org"], an_email("Two"))
        names = store.message_names()
        assert len(names) == 2
        newest = (mail_dir / names[0]).read_bytes()
        assert newest.startswith(b"X-Envelope-From: bounces@fieldstone.example\r\n")
        assert b"X-Envelope-To: carol@example.org" in newest
        assert b"Subject: Two" in newest
        assert not list(mail_dir.glob(".*.part"))
