"""The demo's mailbox holds one member's copy of the demo mailing from the start, never two.

The copy is the first member of Fieldstone Action's list's own, as a send renders it:
addressed to them, with their links. It goes through a real SMTP session to the demo's
own mail catcher, which files it where the staff mailbox reads. (A staff test copy
would not show the greeting: its links act for no one.)
"""

from __future__ import annotations

import re
import signal
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from io import StringIO
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.core.management import call_command
from django.test import Client

from groundswell.demo.mailbox_copy import ensure_mailbox_copy
from groundswell.demo.staff import ensure_demo_staff
from groundswell.lib.tokens import make_member_token
from groundswell.mailbox import store
from groundswell.mailbox.catcher import start_mail_catcher
from groundswell.mailings.models import Mailing
from groundswell.members.models import Person, SubscriptionStatus
from tests.conftest import free_port
from tests.mailbox.conftest import demo_urls  # noqa: F401 (the viewer, mounted as in the demo)
from tests.test_demo import ITS_OWN_DATABASE, StartDemo, log_in, start_demo  # noqa: F401

STAFF_ADDRESS = "staff@example.org"


@pytest.fixture
def catcher(settings: Any, tmp_path: Path) -> Iterator[Path]:
    """The demo's mail catcher on a free port, filing into a data dir of this test's own."""
    settings.DATA_DIR = tmp_path
    port = free_port()
    controller = start_mail_catcher("127.0.0.1", port)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    try:
        yield tmp_path / "mail"
    finally:
        controller.stop()


@pytest.fixture
def demo(db: None, catcher: Path) -> Mailing:
    call_command("load_demo", signatures=80, stdout=StringIO())
    ensure_demo_staff()
    return Mailing.objects.get()


def caught(folder: Path) -> list[EmailMessage]:
    messages = []
    for path in sorted(folder.glob("*.eml")):
        message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        assert isinstance(message, EmailMessage)
        messages.append(message)
    return messages


def first_member(mailing: Mailing) -> Person:
    member = (
        Person.objects.filter(
            subscriptions__mailing_list__in=mailing.include_lists.all(),
            subscriptions__status=SubscriptionStatus.SUBSCRIBED,
        )
        .order_by("pk")
        .first()
    )
    assert member is not None
    return member


def demo_staff_user() -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=ensure_demo_staff()[0])


def text_part(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


class TestMailboxCopy:
    def test_it_files_a_member_s_own_copy_of_the_demo_mailing(
        self, demo: Mailing, catcher: Path, django_capture_on_commit_callbacks: Any
    ) -> None:
        member = first_member(demo)
        with django_capture_on_commit_callbacks(execute=True):
            copy = ensure_mailbox_copy()
        assert copy is not None and copy.sent_now
        assert member.email in copy.describe()
        [message] = caught(catcher)
        assert message["To"] == member.email
        assert message["X-Envelope-To"] == member.email
        assert message["Subject"] == "Tell Microsoft to stop enabling ICE"
        assert str(message["Message-ID"]).startswith(f"<{demo.pk}.demo.")
        # It records nothing: the mailing's figures stay as they were.
        assert not demo.recipients.exists()
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        text = text_part(message)
        assert f"Dear {member.first_name}," in text
        assert f"akid={make_member_token(member.pk, demo.pk)}" in text
        # The staff mailbox lists it.
        assert [store.summary(name).subject for name in store.message_names()] == [
            "Tell Microsoft to stop enabling ICE"
        ]

    def test_its_petition_link_greets_the_member_by_first_name(
        self, demo: Mailing, catcher: Path, django_capture_on_commit_callbacks: Any
    ) -> None:
        member = first_member(demo)
        with django_capture_on_commit_callbacks(execute=True):
            ensure_mailbox_copy()
        [message] = caught(catcher)
        link = re.search(r"Add your name \((http://testserver(/sign/[^)]+))\)", text_part(message))
        assert link is not None
        page = Client().get(link[2]).content.decode().replace("&#x27;", "'")
        assert f'Signing as <strong dir="auto">{member.first_name}</strong>' in page
        assert f"Not {member.first_name}? Click here." in page

    def test_it_sends_no_second_copy_while_one_is_in_the_mailbox(
        self, demo: Mailing, catcher: Path, django_capture_on_commit_callbacks: Any
    ) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            ensure_mailbox_copy()
        with django_capture_on_commit_callbacks(execute=True):
            again = ensure_mailbox_copy()
        assert again is not None and not again.sent_now
        assert "there already" in again.describe()
        assert len(caught(catcher)) == 1

    def test_it_files_a_new_copy_once_the_mailbox_was_emptied(
        self, demo: Mailing, catcher: Path, django_capture_on_commit_callbacks: Any
    ) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            ensure_mailbox_copy()
        for path in catcher.glob("*.eml"):
            path.unlink()
        with django_capture_on_commit_callbacks(execute=True):
            copy = ensure_mailbox_copy()
        assert copy is not None and copy.sent_now
        assert len(caught(catcher)) == 1

    def test_it_sends_nothing_without_the_demo_mailing(
        self, db: None, catcher: Path, django_capture_on_commit_callbacks: Any
    ) -> None:
        ensure_demo_staff()
        with django_capture_on_commit_callbacks(execute=True):
            assert ensure_mailbox_copy() is None
        assert caught(catcher) == []


class TestReadingItInTheMailbox:
    def test_its_links_open_in_a_tab_of_their_own_not_in_the_frame(
        self,
        demo: Mailing,
        catcher: Path,
        django_capture_on_commit_callbacks: Any,
        demo_urls: None,  # noqa: F811
    ) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            ensure_mailbox_copy()
        client = Client()
        client.force_login(demo_staff_user())
        [name] = store.message_names()
        html = client.get(f"/staff/mailbox/{name}/html/").content.decode()
        head = html.index("<head")
        assert html.index('<base target="_blank">') > head
        assert html.count("<base ") == 1


@pytest.mark.slow
@ITS_OWN_DATABASE
class TestDemoCommand:
    def test_the_mailbox_shows_the_copy_once_the_demo_is_up_and_only_once_after_restarts(
        self,
        start_demo: StartDemo,  # noqa: F811
    ) -> None:
        first = start_demo()
        first.wait_until_site_answers()
        first.wait_for_output("Press Ctrl-C")
        assert "Mailbox: the demo mailing" in first.output
        password = (first.data_dir / "staff_password").read_text().strip()
        with httpx.Client(base_url=first.base_url, timeout=10) as client:
            log_in(client, password)
            mailbox = client.get("/staff/mailbox/")
        assert "Tell Microsoft to stop enabling ICE" in mailbox.text
        first.process.send_signal(signal.SIGINT)
        assert first.wait_for_exit() == 0, first.output

        second = start_demo()
        second.wait_until_site_answers()
        second.wait_for_output("Press Ctrl-C")
        assert "is there already" in second.output
        second.process.send_signal(signal.SIGINT)
        assert second.wait_for_exit() == 0, second.output
        copies = [
            path
            for path in (second.data_dir / "mail").glob("*.eml")
            if b"Subject: Tell Microsoft to stop enabling ICE" in path.read_bytes()
        ]
        assert len(copies) == 1
