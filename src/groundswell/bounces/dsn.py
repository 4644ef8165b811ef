"""Reading bounce and complaint reports that arrive as email.

Delivery status notifications (RFC 3464: multipart/report; report-type=delivery-status)
and abuse feedback reports (RFC 5965: report-type=feedback-report). Pure functions,
no database: `read_reports` turns the bytes of one message into what it reports.

Anything that is not such a report, or is too broken to read, yields no reports.
"""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser
from enum import StrEnum


class ReportKind(StrEnum):
    HARD = "hard"  # the address does not exist or will never accept our mail
    SOFT = "soft"  # delayed or temporarily refused: it may still arrive
    COMPLAINT = "complaint"  # the person marked the message as spam


@dataclass(frozen=True)
class Report:
    kind: ReportKind
    # Message-IDs that may be the one we sent, the most trustworthy first.
    message_ids: tuple[str, ...]
    # The address the report is about (Final-Recipient, or the complaint's original
    # recipient); empty when the report does not say.
    address: str
    status: str = ""
    detail: str = ""


MESSAGE_ID = re.compile(r"<[^<>\s]{1,250}>")
STATUS = re.compile(r"^([245])\.\d{1,3}\.\d{1,3}$")
# A field value is at most this long once read: enough for any real diagnostic.
MAX_DETAIL = 500


def read_reports(raw: bytes) -> list[Report]:
    """What this message reports: one entry per failed recipient, or the complaint."""
    # compat32 is the lenient policy: it never raises on malformed headers and hands
    # back strings; the modern policy can raise while decoding a header on access.
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    if message.get_content_type() != "multipart/report":
        return []
    report_type = _text(message.get_param("report-type", "")).lower()
    if report_type == "delivery-status":
        return _delivery_status(message)
    if report_type == "feedback-report":
        return _feedback(message)
    return []


def _delivery_status(message: Message) -> list[Report]:
    status_part = _first_part(message, "message/delivery-status")
    if status_part is None:
        return []
    blocks = _field_blocks(status_part)
    message_ids = _original_message_ids(message)
    reports = []
    # The first block is about the message; each following one about one recipient.
    for fields in blocks[1:]:
        action = fields.get("action", "").lower()
        status = fields.get("status", "").split(" ")[0]
        address = _address(fields.get("final-recipient", "")) or _address(
            fields.get("original-recipient", "")
        )
        detail = fields.get("diagnostic-code", "")
        match = STATUS.match(status)
        klass = match.group(1) if match else ""
        if action == "failed" and klass == "5":
            kind = ReportKind.HARD
        elif action == "delayed" or (action == "failed" and klass == "4"):
            kind = ReportKind.SOFT
        else:
            # delivered, relayed, expanded, or a failure without a usable status.
            continue
        reports.append(Report(kind, message_ids, address, status, detail[:MAX_DETAIL]))
    return reports


def _feedback(message: Message) -> list[Report]:
    feedback_part = _first_part(message, "message/feedback-report")
    if feedback_part is None:
        return []
    blocks = _field_blocks(feedback_part)
    fields = blocks[0] if blocks else {}
    if fields.get("feedback-type", "").lower() != "abuse":
        return []
    original = _original_headers(message)
    address = _address(fields.get("original-rcpt-to", ""))
    if not address and original is not None:
        # Providers often leave Original-Rcpt-To out (and may redact To); try anyway.
        address = _address(_text(original.get("To", "")))
    detail = fields.get("user-agent", "")
    return [
        Report(
            ReportKind.COMPLAINT,
            _original_message_ids(message),
            address,
            "",
            f"abuse report from {detail}"[:MAX_DETAIL] if detail else "abuse report",
        )
    ]


def _first_part(message: Message, content_type: str) -> Message | None:
    for part in message.walk():
        if part.get_content_type() == content_type:
            return part
    return None


def _field_blocks(part: Message) -> list[dict[str, str]]:
    """The groups of `Name: value` fields in a delivery-status or feedback-report part."""
    payload = part.get_payload()
    blocks: list[dict[str, str]] = []
    if isinstance(payload, list):
        # The email package already split a message/delivery-status part into blocks.
        for block in payload:
            if isinstance(block, Message):
                blocks.append({key.lower(): _text(value) for key, value in block.items()})
        if blocks:
            return blocks
        return []
    text = _decoded_text(part)
    for chunk in re.split(r"\r?\n\s*\r?\n", text):
        fields = HeaderParser(policy=email.policy.compat32).parsestr(chunk.strip() + "\n\n")
        block = {key.lower(): _text(value) for key, value in fields.items()}
        if block:
            blocks.append(block)
    return blocks


def _original_headers(message: Message) -> Message | None:
    """The headers of the message we sent, as returned inside the report."""
    for part in message.walk():
        content_type = part.get_content_type()
        if content_type in ("message/rfc822", "message/global"):
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                return payload[0]
            if isinstance(payload, str):
                return HeaderParser(policy=email.policy.compat32).parsestr(payload)
        if content_type in ("text/rfc822-headers", "message/global-headers"):
            return HeaderParser(policy=email.policy.compat32).parsestr(_decoded_text(part))
    return None


def _original_message_ids(message: Message) -> tuple[str, ...]:
    found: list[str] = []
    original = _original_headers(message)
    if original is not None:
        found += MESSAGE_ID.findall(_text(original.get("Message-ID", "")))[:1]
    # Some servers also point at the original from the report's own headers.
    found += MESSAGE_ID.findall(_text(message.get("In-Reply-To", "")))[:1]
    found += MESSAGE_ID.findall(_text(message.get("References", "")))[:5]
    return tuple(dict.fromkeys(found))


def _address(value: str) -> str:
    """The address in `rfc822; bob@example.org` (or just `bob@example.org`)."""
    _, _, rest = value.rpartition(";")
    address = rest.strip().strip("<>").strip()
    if "@" not in address or any(c.isspace() for c in address) or len(address) > 254:
        return ""
    return address


def _decoded_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        return payload.decode("utf-8", errors="replace")
    raw = part.get_payload()
    return raw if isinstance(raw, str) else ""


def _text(value: object) -> str:
    """A header value as a plain one-line string, whatever the parser handed back."""
    if isinstance(value, tuple):
        # get_param gives (charset, language, value) for RFC 2231 parameters.
        value = value[-1]
    if not isinstance(value, str):
        value = str(value) if value is not None else ""
    return " ".join(value.split())
