"""The message bytes: every header, both parts, encodings, footer, tokens, DKIM."""

from __future__ import annotations

import binascii
import re
import subprocess
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import dkim
import pytest
from django.test import Client
from hypothesis import example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from groundswell.lib import mime
from groundswell.lib.tokens import read_member_token
from groundswell.mailings.models import Mailing, MailingRecipient, TrackedLink
from groundswell.mailings.rendering import prepare_mailing
from groundswell.members.models import Person, Subscription

HREF = re.compile(r'href="([^"]+)"')


def recipient_for(mailing: Mailing, person: Person, variant: str = "A") -> MailingRecipient:
    return MailingRecipient.objects.create(
        mailing=mailing, person=person, email=person.email, variant=variant
    )


def parsed(data: bytes) -> EmailMessage:
    message = message_from_bytes(data, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


@pytest.mark.django_db
class TestHeaders:
    def test_it_writes_every_header_a_bulk_sender_needs(
        self, mailing: Mailing, bob: Person
    ) -> None:
        recipient = recipient_for(mailing, bob)
        data = prepare_mailing(mailing).message_bytes(recipient)
        message = parsed(data)
        assert message["From"] == "Marisol Whitcombe <updates@fieldstone.example>"
        assert message["To"] == "bob@example.org"
        assert message["Subject"] == "Tell Microsoft: stop enabling ICE"
        assert message["Reply-To"] == "marisol@fieldstone.example"
        assert message["MIME-Version"] == "1.0"
        assert message.get_content_type() == "multipart/alternative"
        assert parsedate_to_datetime(message["Date"]).tzinfo is not None
        assert re.fullmatch(
            rf"<{mailing.pk}\.{recipient.pk}\.[0-9a-f]{{16}}@testserver>", message["Message-ID"]
        )
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message["List-Id"] == "Fieldstone Action <fieldstone-action.lists.testserver>"
        (url,) = re.findall(r"<(.+?)>", message["List-Unsubscribe"])
        token = url.removeprefix("http://testserver/unsubscribe/").rstrip("/")
        member = read_member_token(token)
        assert member is not None
        assert (member.mailing_id, member.person_id) == (mailing.pk, bob.pk)
        assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")

    def test_it_keeps_a_message_id_given_by_the_sender(self, mailing: Mailing, bob: Person) -> None:
        recipient = recipient_for(mailing, bob)
        data = prepare_mailing(mailing).message_bytes(recipient, message_id="<fixed.1@testserver>")
        assert parsed(data)["Message-ID"] == "<fixed.1@testserver>"

    def test_it_gives_each_message_its_own_message_id(self, mailing: Mailing, bob: Person) -> None:
        prepared = prepare_mailing(mailing)
        recipient = recipient_for(mailing, bob)
        ids = {parsed(prepared.message_bytes(recipient))["Message-ID"] for _ in range(20)}
        assert len(ids) == 20

    def test_it_encodes_non_ascii_names_and_subjects(self, mailing: Mailing, bob: Person) -> None:
        mailing.from_name = "Marisol Whitcombe, Fieldstone Acción"
        mailing.subject = "Dígale a Microsoft: ¡basta ya! — {{ first_name }}"
        mailing.save()
        data = prepare_mailing(mailing).message_bytes(recipient_for(mailing, bob))
        head = data.split(b"\r\n\r\n", 1)[0]
        assert head.isascii()
        assert b"=?utf-8?" in head
        message = parsed(data)
        assert message["Subject"] == "Dígale a Microsoft: ¡basta ya! — Bob"
        assert message["From"].addresses[0].display_name == "Marisol Whitcombe, Fieldstone Acción"
        assert message["From"].addresses[0].addr_spec == "updates@fieldstone.example"

    def test_it_quotes_ascii_names_with_specials(self, mailing: Mailing, bob: Person) -> None:
        mailing.from_name = "Fieldstone Action, Chicago"
        mailing.save()
        message = parsed(prepare_mailing(mailing).message_bytes(recipient_for(mailing, bob)))
        assert message["From"].addresses[0].display_name == "Fieldstone Action, Chicago"

    def test_it_sends_subject_b_to_variant_b(
        self, mailing: Mailing, bob: Person, zoe: Person
    ) -> None:
        mailing.subject_b = "Satya Nadella is appalled. Is that enough?"
        mailing.save()
        prepared = prepare_mailing(mailing)
        a = parsed(prepared.message_bytes(recipient_for(mailing, bob, "A")))
        b = parsed(prepared.message_bytes(recipient_for(mailing, zoe, "B")))
        assert a["Subject"] == "Tell Microsoft: stop enabling ICE"
        assert b["Subject"] == "Satya Nadella is appalled. Is that enough?"

    def test_it_refuses_an_address_with_a_line_break(self, mailing: Mailing, bob: Person) -> None:
        recipient = recipient_for(mailing, bob)
        recipient.email = "bob@example.org\r\nBcc: everyone@example.org"
        with pytest.raises(mime.HeaderInjection):
            prepare_mailing(mailing).message_bytes(recipient)


@pytest.mark.django_db
class TestParts:
    def test_it_sends_text_and_html_in_quoted_printable_utf8(
        self, mailing: Mailing, zoe: Person
    ) -> None:
        message = parsed(prepare_mailing(mailing).message_bytes(recipient_for(mailing, zoe)))
        for part in message.iter_parts():
            assert part.get_content_charset() == "utf-8"
            assert part["Content-Transfer-Encoding"] == "quoted-printable"
        assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]

    def test_it_greets_by_name_and_escapes_it_in_html(self, mailing: Mailing, zoe: Person) -> None:
        text, html = parts(
            parsed(prepare_mailing(mailing).message_bytes(recipient_for(mailing, zoe)))
        )
        assert "Dear Zoë <b>," in text
        assert "Dear Zoë &lt;b&gt;," in html
        assert "<b>," not in html

    def test_it_falls_back_to_friend_without_a_first_name(
        self, mailing: Mailing, members_list: Any
    ) -> None:
        nameless = Person.objects.create(email="n@example.org", email_normalised="n@example.org")
        text, html = parts(
            parsed(prepare_mailing(mailing).message_bytes(recipient_for(mailing, nameless)))
        )
        assert "Dear friend," in text and "Dear friend," in html

    def test_it_prints_the_footer(self, mailing: Mailing, bob: Person) -> None:
        text, html = parts(
            parsed(prepare_mailing(mailing).message_bytes(recipient_for(mailing, bob)))
        )
        for part in (text, html):
            assert "Fieldstone Action" in part
            assert "PO Box 20417" in part and "Chicago, IL 60620" in part
            assert re.search(r"© \d{4} Fieldstone Action", part)
            assert "This email was sent to bob@example.org." in part
            assert "Change your email or mailing address" in part
            assert "Manage your subscriptions or unsubscribe" in part
            assert "View this email in your browser" in part
        assert "Marisol Whitcombe" in html and "Campaign manager" in html
        assert "Over 300 of its own workers already have." in html
        assert f"/o/{mailing.pk}/" in html

    def test_every_link_carries_a_valid_token_and_a_known_number(
        self, mailing: Mailing, bob: Person
    ) -> None:
        text, html = parts(
            parsed(prepare_mailing(mailing).message_bytes(recipient_for(mailing, bob)))
        )
        stored = dict(TrackedLink.objects.filter(mailing=mailing).values_list("number", "url"))
        assert sorted(stored) == list(range(1, len(stored) + 1))
        numbers_seen = set()
        for href in HREF.findall(html):
            href = href.replace("&amp;", "&")
            if href.startswith("#"):
                continue
            assert href.startswith("http://testserver/"), href
            parts_ = urlsplit(href)
            query = parse_qs(parts_.query)
            if parts_.path.startswith("/sign/"):
                number, token = int(query["t"][0]), query["akid"][0]
            elif parts_.path.startswith("/go/"):
                _go, mailing_id, number_, _ = parts_.path.split("/", 4)[1:]
                assert int(mailing_id) == mailing.pk
                number, token = int(number_), query["akid"][0]
            elif parts_.path.startswith(("/profile/", "/unsubscribe/")):
                number, token = int(query["t"][0]), parts_.path.split("/")[2]
            else:
                assert parts_.path.endswith(".gif")
                continue
            assert number in stored
            numbers_seen.add(number)
            member = read_member_token(token)
            assert member is not None and member.person_id == bob.pk
        assert numbers_seen == set(stored)
        # The text part offers the same links.
        for number in stored:
            assert f"/go/{mailing.pk}/{number}/" in text or f"t={number}" in text

    def test_the_one_click_address_unsubscribes(self, mailing: Mailing, bob: Person) -> None:
        message = parsed(prepare_mailing(mailing).message_bytes(recipient_for(mailing, bob)))
        (url,) = re.findall(r"<(.+?)>", message["List-Unsubscribe"])
        response = Client().post(
            urlsplit(url).path,
            data=b"List-Unsubscribe=One-Click",
            content_type="application/x-www-form-urlencoded",
        )
        assert response.status_code == 200
        assert not Subscription.objects.get(person=bob).is_subscribed


@pytest.mark.django_db
class TestDkim:
    def test_it_signs_the_headers_that_matter(
        self, mailing: Mailing, bob: Person, settings: Any, tmp_path: Path
    ) -> None:
        key = tmp_path / "dkim.pem"
        subprocess.run(
            ["openssl", "genrsa", "-traditional", "-out", str(key), "2048"],
            check=True,
            capture_output=True,
        )
        public = subprocess.run(
            ["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"],
            check=True,
            capture_output=True,
        ).stdout
        settings.DKIM_SELECTOR = "gs2026"
        settings.DKIM_DOMAIN = "fieldstone.example"
        settings.DKIM_PRIVATE_KEY_PATH = str(key)
        data = prepare_mailing(mailing).message_bytes(recipient_for(mailing, bob))
        assert data.startswith(b"DKIM-Signature:")
        signed = parsed(data)["DKIM-Signature"]
        tags = dict(
            part.strip().split("=", 1) for part in re.sub(r"\s+", "", signed).split(";") if part
        )
        assert tags["d"] == "fieldstone.example" and tags["s"] == "gs2026"
        for header in (
            "from", "to", "subject", "date", "message-id", "list-unsubscribe",
            "list-unsubscribe-post",
        ):  # fmt: skip
            assert header in tags["h"].split(":")
        import base64

        record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)

        def dns(name: bytes, timeout: int = 5) -> bytes:
            assert name == b"gs2026._domainkey.fieldstone.example."
            return record

        assert dkim.verify(data, dnsfunc=dns)
        tampered = data.replace(b"Subject: Tell", b"Subject: Sell")
        assert not dkim.verify(tampered, dnsfunc=dns)


@given(st.lists(st.text(max_size=120), max_size=8))
@hypothesis_settings(max_examples=300)
@example(pieces=["\r", "\n"])
def test_pieces_encoded_apart_join_into_valid_quoted_printable(pieces: list[str]) -> None:
    joined = b"".join(mime.qp_chunk(piece) for piece in pieces)
    for line in joined.split(b"\r\n"):
        assert len(line) <= 76
        assert b"\n" not in line and b"\r" not in line
    # Line breaks are read within each piece (qp_chunk's docstring): ["\r", "\n"] is two.
    expected = "".join(p.replace("\r\n", "\n").replace("\r", "\n") for p in pieces)
    decoded = binascii.a2b_qp(joined).decode("utf-8").replace("\r\n", "\n")
    assert decoded == expected
