from __future__ import annotations

import os
import shutil
import socket
import threading
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.contrib.auth.models import User
from django.test import Client

from groundswell.orgs.models import Organisation
from groundswell.petitions.models import Petition
from tests import cast


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SinkHandler:
    """Keeps every message a real SMTP session hands over."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.envelopes: list[Any] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.envelopes.append(envelope)
            self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


class SmtpSink:
    def __init__(self, port: int, handler: SinkHandler) -> None:
        self.port = port
        self.handler = handler

    @property
    def messages(self) -> list[Message]:
        with self.handler.lock:
            return list(self.handler.messages)


@pytest.fixture
def smtp_sink(settings: Any) -> Iterator[SmtpSink]:
    """A real SMTP server on localhost; Django's mail goes to it for the test."""
    handler = SinkHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    try:
        yield SmtpSink(port, handler)
    finally:
        controller.stop()


# The cast (tests/cast.py): the organisations, the petition and the people most tests need.


@pytest.fixture
def open_press(db: None) -> Organisation:
    """The sponsor, with its default list."""
    return cast.make_org()


@pytest.fixture
def action_fund(db: None) -> Organisation:
    """The coalition partner, with its default list."""
    return cast.make_partner()


@pytest.fixture
def petition(open_press: Organisation, action_fund: Organisation) -> Petition:
    """An open petition the two run together, the sponsor first."""
    return cast.make_petition(sponsors=[open_press, action_fund])


@pytest.fixture
def alice(db: None) -> User:
    """Alice the organiser, an installation administrator: she sees everything (tests
    of what other staff may see give roles per organisation instead)."""
    return cast.make_staff(superuser=True)


@pytest.fixture
def alice_client(alice: User) -> Client:
    client = Client()
    client.force_login(alice)
    return client


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser(django_db_setup: None) -> Iterator[Any]:
    """Debian's chromium driven by Playwright (its own browser download cannot work here).

    Started after the test database exists, with Django's async-safety check off
    while it runs: Playwright's sync API keeps an event loop in the test thread,
    which the check mistakes for async code calling the ORM. Nothing async touches
    the database: the live server answers from its own thread, the tests from theirs.
    """
    path = chromium_path()
    if path is None:
        pytest.skip(
            "chromium is not installed: run `make test` as root, or apt-get install chromium"
        )
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=path, headless=True, args=CHROMIUM_ARGS
            )
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    # Tests evaluate their own scripts (axe, wait_for_function), which the site's
    # Content-Security-Policy forbids; tests/test_browser_csp.py checks the pages
    # under it.
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def strict_page(browser: Any) -> Iterator[tuple[Any, list[str]]]:
    """A page under the site's own Content-Security-Policy (the `page` fixture bypasses
    it), and the list it fills with every violation and script error."""
    context = browser.new_context()
    page = context.new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda message: (
            problems.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    yield page, problems
    context.close()


@pytest.fixture
def no_js_page(browser: Any) -> Iterator[Any]:
    """A page in a browser with JavaScript turned off."""
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(autouse=True)
def fresh_process_caches() -> Iterator[None]:
    """Every test starts without the process's copies of petitions, pages and counts:
    another test's petition had the same slug (and, on PostgreSQL, another id, which
    a kept copy would count and refresh against)."""
    from groundswell.petitions.counter import clear_process_cache
    from groundswell.petitions.pages import clear_page_cache

    clear_process_cache()
    clear_page_cache()
    yield
    clear_process_cache()
    clear_page_cache()


@pytest.fixture(autouse=True)
def _signature_writer_lets_go_of_the_database() -> Iterator[None]:
    """The sign view's writer thread (petitions/writer.py) keeps a connection open;
    close it after each test, so the test database can be flushed or dropped."""
    yield
    from groundswell.petitions.writer import close_process_writer_connection

    close_process_writer_connection()


@pytest.fixture(scope="session", autouse=True)
def _tracking_buffers_are_flushed_by_hand() -> None:
    """Every test writes buffered clicks and opens itself, with flush_all(), inside its
    own transaction. The buffers' background thread would write them through a
    connection of its own (tracking/buffer.py): against a test's open transaction it
    waits out the busy timeout, then hands the batch back to a later test. The tests of
    that thread turn it on for themselves (the `settings` fixture puts it back)."""
    from django.conf import settings

    settings.TRACKING_BACKGROUND_FLUSHES = False


@pytest.fixture(autouse=True)
def _tracking_buffers_start_empty() -> Iterator[None]:
    """No click or open recorded by one test reaches another's flush."""
    from groundswell.tracking.recording import CLICKS, OPENS

    for buffer in (CLICKS, OPENS):
        buffer.clear()
    yield
    for buffer in (CLICKS, OPENS):
        buffer.clear()


@pytest.fixture(autouse=True)
def _browsers_fill_the_sign_form_faster_than_people(request: pytest.FixtureRequest) -> None:
    """chromium under a test fills the sign form in a fraction of a second, sooner than
    the form's minimum time takes (petitions/defences.py): browser tests sign without
    that one check, and tests/petitions/test_browser_sign_defences.py waits it out as
    a person would, with and without JavaScript. Tests posting the form themselves
    send a stamp (tests/petitions/conftest.py sign_data)."""
    if request.node.get_closest_marker("browser") is not None:
        settings = request.getfixturevalue("settings")
        settings.SIGN_MIN_SECONDS = 0
