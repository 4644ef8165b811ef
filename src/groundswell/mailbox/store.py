"""Caught emails on disk: one .eml file per message under DATA_DIR/mail/.

The demo's mail catcher writes them; the staff mailbox reads them. File names
start with the UTC time of arrival, so sorting names sorts messages.
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path

from django.conf import settings

NAME_PATTERN = re.compile(r"^[0-9]{8}-[0-9]{6}-[0-9]{6}-[0-9a-f]{8}\.eml$")


def mail_dir() -> Path:
    return Path(settings.DATA_DIR) / "mail"


def save_message(data: bytes, *, mail_from: str, rcpt_tos: list[str]) -> Path:
    """Store one message as it arrived, with its envelope in two extra headers first."""
    folder = mail_dir()
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{datetime.now(UTC):%Y%m%d-%H%M%S-%f}-{secrets.token_hex(4)}.eml"
    envelope = (
        f"X-Envelope-From: {_one_line(mail_from)}\r\n"
        f"X-Envelope-To: {_one_line(', '.join(rcpt_tos))}\r\n"
    ).encode()
    partial = folder / f".{name}.part"
    partial.write_bytes(envelope + data)
    # Readers never see half a message: the name appears only once the file is complete.
    os.replace(partial, folder / name)
    return folder / name


def _one_line(value: str) -> str:
    return value.replace("\r", " ").replace("\n", " ")


@dataclass(frozen=True)
class CaughtMessage:
    name: str
    received_at: datetime
    sent_at: datetime | None
    sender: str
    recipients: str
    subject: str


def message_names() -> list[str]:
    """Every stored message, newest first."""
    folder = mail_dir()
    if not folder.is_dir():
        return []
    return sorted((p.name for p in folder.iterdir() if NAME_PATTERN.match(p.name)), reverse=True)


def path_for(name: str) -> Path | None:
    """The file for a name from a URL, or None: only our own names, only in our folder."""
    if not NAME_PATTERN.match(name):
        return None
    path = mail_dir() / name
    return path if path.is_file() else None


def received_at(name: str) -> datetime:
    return datetime.strptime(name[:22], "%Y%m%d-%H%M%S-%f").replace(tzinfo=UTC)


def read_headers(name: str) -> EmailMessage:
    """A stored message's headers only (the envelope's two come first)."""
    with (mail_dir() / name).open("rb") as file:
        headers = BytesParser(policy=policy.default).parse(file, headersonly=True)
    assert isinstance(headers, EmailMessage)
    return headers


def summary(name: str) -> CaughtMessage:
    headers = read_headers(name)
    return CaughtMessage(
        name=name,
        received_at=received_at(name),
        sent_at=sent_at(headers),
        sender=str(headers.get("From", "")),
        recipients=str(headers.get("To", "") or headers.get("X-Envelope-To", "")),
        subject=str(headers.get("Subject", "")),
    )


def sent_at(message: EmailMessage) -> datetime | None:
    value = message.get("Date")
    if not value:
        return None
    try:
        return parsedate_to_datetime(str(value))
    except (TypeError, ValueError):
        return None


def read_message(path: Path) -> EmailMessage:
    with path.open("rb") as file:
        message = BytesParser(policy=policy.default).parse(file)
    assert isinstance(message, EmailMessage)
    return message


def body_text(message: EmailMessage, subtype: str) -> str | None:
    """The message's text/<subtype> body, decoded, or None if it has none."""
    part = message.get_body(preferencelist=(subtype,))
    if part is None or part.get_content_subtype() != subtype:
        return None
    try:
        content = part.get_content()
    except (LookupError, UnicodeError):
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    return content if isinstance(content, str) else None
