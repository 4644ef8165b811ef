"""Every email we send, to someone whose name HTML would escape, read back from a real SMTP
server: the plain-text part holds the name as typed, the HTML part escapes it exactly once."""

from __future__ import annotations

import re
from email.header import decode_header, make_header
from email.message import Message
from html.parser import HTMLParser
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from groundswell.bounces.complaints import warn_if_complaint_rate_alarming
from groundswell.lib.tokens import make_member_token
from groundswell.mailings.actions.compose import do_send_test
from groundswell.mailings.actions.send import do_start_send
from groundswell.mailings.models import Mailing, MailingRecipient, MailingStatus, RecipientState
from groundswell.members.models import Person
from groundswell.petitions.actions.signing import SignatureDetails, do_sign_petition
from tests.cast import make_mailing, make_org, make_petition
from tests.conftest import SmtpSink

pytestmark = pytest.mark.django_db

NAME = "O'Brien & <Sons>"
EMAIL = "obrien@example.org"
# Any character reference: a plain-text email has no reason to hold one.
ENTITY = re.compile(r"&(#[0-9]+|#x[0-9a-fA-F]+|[a-zA-Z]+);")
MAILING_BODY = """\
Dear {{ first_name }},

The river needs you, {{ first_name }}. [Sign the petition]({{ petition_url }}).
"""


class VisibleText(HTMLParser):
    """The text a mail client shows for an HTML part, character references decoded once."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []

    def handle_data(self, data: str) -> None:
        self.chunks.append(data)


def visible_text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    parser.close()
    return "".join(parser.chunks)


def part(message: Message, subtype: str) -> str | None:
    for piece in message.walk():
        if piece.get_content_type() == f"text/{subtype}":
            payload = piece.get_payload(decode=True)
            assert isinstance(payload, bytes)
            text = payload.decode(piece.get_content_charset() or "utf-8")
            return text.replace("\r\n", "\n")
    return None


def subject(message: Message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def assert_plain(text: str | None, *, names_them: bool = True) -> None:
    assert text is not None
    assert ENTITY.search(text) is None, text
    if names_them:
        assert NAME in text, text


def assert_escaped_once(html: str | None) -> None:
    assert html is not None
    # Escaped once: a reader sees the name as typed, and no stray tag named Sons.
    assert NAME in visible_text(html)
    assert "<Sons>" not in html
    assert ENTITY.search(visible_text(html)) is None


def assert_names_them_in_both_parts(message: Message) -> None:
    """In the greeting, the body and the sign-off."""
    text, html = part(message, "plain"), part(message, "html")
    assert_plain(text)
    assert f"Dear {NAME}," in str(text) and f"\n{NAME}\n" in str(text)
    assert str(text).count(NAME) == 3
    assert_escaped_once(html)
    assert visible_text(str(html)).count(NAME) == 3


def only(sink: SmtpSink, to: str) -> Message:
    messages = [m for m in sink.messages if m["To"] == to]
    assert len(messages) == 1, [m["To"] for m in sink.messages]
    return messages[0]


@pytest.fixture
def obrien(capture: Any) -> Person:
    """O'Brien & <Sons> signs Riverbank's petition and agrees to hear from Riverbank."""
    riverbank = make_org("Riverbank Action", "riverbank")
    with capture(execute=True):
        do_sign_petition(
            make_petition("clean-river", sponsors=[riverbank]),
            SignatureDetails(email=EMAIL, first_name=NAME, last_name=NAME, consents={"riverbank"}),
        )
    return Person.objects.get(email_normalised=EMAIL)


@pytest.fixture
def capture(django_capture_on_commit_callbacks: Any) -> Any:
    return django_capture_on_commit_callbacks


@pytest.fixture
def mailing(obrien: Person) -> Mailing:
    org = obrien.subscriptions.get().mailing_list.organisation
    # Signed by them too: the sign-off is the template's own text, not a merge field.
    return make_mailing(
        org,
        *org.mailing_lists.all(),
        subject="News for {{ first_name }}",
        body=MAILING_BODY,
        signoff_name=NAME,
    )


class TestEmailsToOBrien:
    def test_it_thanks_them_for_signing(self, smtp_sink: SmtpSink, capture: Any) -> None:
        riverbank = make_org("Riverbank Action", "riverbank")
        with capture(execute=True):
            do_sign_petition(
                make_petition("clean-river", sponsors=[riverbank]),
                SignatureDetails(email=EMAIL, first_name=NAME, last_name=NAME),
            )
        message = only(smtp_sink, EMAIL)
        text = part(message, "plain")
        assert_plain(text)
        assert f"Dear {NAME}," in str(text)
        assert "&source=email-share" in str(text)
        assert part(message, "html") is None

    def test_it_asks_them_to_confirm_an_email_change_and_tells_the_old_address(
        self, obrien: Person, client: Client, smtp_sink: SmtpSink, capture: Any
    ) -> None:
        with capture(execute=True):
            response = client.post(f"/profile/{make_member_token(obrien.pk)}/")
        assert response.status_code == 200
        text = part(only(smtp_sink, EMAIL), "plain")
        assert_plain(text)
        assert f"Hello {NAME}," in str(text)
        link = re.search(r"http://testserver(/profile/edit/\S+/)", str(text))
        assert link is not None
        smtp_sink.handler.messages.clear()
        with capture(execute=True):
            response = client.post(link[1], {"new_email": "sons@example.org"})
        assert response.status_code == 200
        for to in ("sons@example.org", EMAIL):
            text = part(only(smtp_sink, to), "plain")
            assert_plain(text)
            assert f"Hello {NAME}," in str(text)

    @pytest.mark.parametrize("kind", ["export", "erase"])
    def test_it_sends_the_privacy_link_unescaped(
        self, obrien: Person, client: Client, smtp_sink: SmtpSink, capture: Any, kind: str
    ) -> None:
        with capture(execute=True):
            response = client.post("/privacy/", {"email": EMAIL, "kind": kind})
        assert response.status_code == 200
        # These greet no one by name (anyone may ask for them): nothing in them is escaped.
        text = part(only(smtp_sink, EMAIL), "plain")
        assert_plain(text, names_them=False)
        assert "/privacy/confirm/" in str(text)

    def test_a_test_send_written_as_them_names_them_in_both_parts(
        self, obrien: Person, mailing: Mailing, smtp_sink: SmtpSink, capture: Any
    ) -> None:
        with capture(execute=True):
            do_send_test(mailing, ["staff@riverbank.example"], person=obrien)
        message = only(smtp_sink, "staff@riverbank.example")
        assert subject(message) == f"[TEST] News for {NAME}"
        assert_names_them_in_both_parts(message)

    def test_the_mailing_names_them_in_both_parts(
        self, obrien: Person, mailing: Mailing, smtp_sink: SmtpSink, capture: Any
    ) -> None:
        with capture(execute=True):
            do_start_send(mailing)
        mailing.refresh_from_db()
        assert mailing.status == MailingStatus.SENT
        message = only(smtp_sink, EMAIL)
        assert subject(message) == f"News for {NAME}"
        assert_names_them_in_both_parts(message)

    def test_the_complaint_alert_quotes_the_subject_as_typed(
        self, obrien: Person, smtp_sink: SmtpSink
    ) -> None:
        org = obrien.subscriptions.get().mailing_list.organisation
        mailing = make_mailing(org, subject=f"A word for {NAME}")
        now = timezone.now()
        MailingRecipient.objects.bulk_create(
            MailingRecipient(
                mailing=mailing,
                email=f"member{n}@example.org",
                state=RecipientState.SENT,
                sent_at=now,
                complained_at=now if n < 2 else None,
            )
            for n in range(100)
        )
        assert warn_if_complaint_rate_alarming(mailing) is True
        message = only(smtp_sink, org.sender_email)
        assert NAME in subject(message)
        assert_plain(part(message, "plain"))
        assert NAME in str(part(message, "plain"))
