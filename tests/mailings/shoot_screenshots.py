"""Screenshots of the demo mailing for docs/mailings.md.

Not part of the test run (the name does not start with test_). Take them with:

    .venv/bin/pytest tests/mailings/shoot_screenshots.py -p no:cacheprovider

then look at every image in docs/screenshots/mailing-*.png before committing.
"""

from __future__ import annotations

from email import message_from_bytes, policy
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from groundswell.mailings.models import Mailing, MailingRecipient
from groundswell.mailings.rendering import prepare_mailing
from groundswell.members.models import Person
from tests.browsing import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture
def demo(db: None) -> Mailing:
    call_command("load_demo", signatures=60, stdout=StringIO())
    return Mailing.objects.get()


def test_shoot(demo: Mailing, live_server: Any, browser: Any, tmp_path: Path) -> None:
    katy = Person.objects.get(email="katy@example.org")
    prepared = prepare_mailing(demo)
    copy = MailingRecipient(mailing=demo, person=katy, email=katy.email, variant="A")
    received = message_from_bytes(prepared.message_bytes(copy), policy=policy.default)
    html = received.get_body(("html",)).get_content()  # type: ignore[union-attr]
    received_file = tmp_path / "received.html"
    received_file.write_text(html)

    for width, name in ((600, "phone"), (1280, "desktop")):
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        page.goto(received_file.as_uri())
        page.screenshot(path=str(OUT / f"mailing-received-{name}.png"), full_page=True)
        context.close()

    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    sign_in(page, live_server.url, "/staff/mailings/")
    page.goto(f"{live_server.url}/staff/mailings/{demo.pk}/preview/?email=katy@example.org")
    page.wait_for_timeout(500)
    page.screenshot(path=str(OUT / "mailing-preview-desktop.png"), full_page=False)
    page.goto(f"{live_server.url}/staff/mailings/{demo.pk}/")
    page.screenshot(path=str(OUT / "mailing-detail-desktop.png"), full_page=True)
    page.goto(f"{live_server.url}/staff/mailings/{demo.pk}/edit/")
    page.screenshot(path=str(OUT / "mailing-compose-desktop.png"), full_page=True)
    context.close()
