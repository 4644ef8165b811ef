"""Handing one message to the mail server: the SMTP session, its answers as outcomes."""

from __future__ import annotations

import contextlib
import re
import smtplib
import socket
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.core import mail

# --- SMTP -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What the mail server made of one message."""

    state: str  # sent, failed, retry, unknown
    response: str

    @property
    def server_down(self) -> bool:
        return self.state == "retry" and self.response.startswith("connection:")


def _answer(code: int, message: bytes | str) -> str:
    text = message.decode(errors="replace") if isinstance(message, bytes) else message
    return f"{code} {text}".strip()[:500]


def _by_code(code: int, message: bytes | str) -> Outcome:
    if 200 <= code < 300:
        return Outcome("sent", _answer(code, message))
    if 500 <= code < 600:
        return Outcome("failed", _answer(code, message))
    return Outcome("retry", _answer(code, message))


class Transport(Protocol):
    def send(
        self, sender: str, recipient: str, message: bytes, next_recipient: str | None = None
    ) -> Outcome:
        """Hand one message over. `next_recipient`: the address the next call will most
        likely send to (same sender), which a transport may announce early."""
        ...

    def close(self) -> None: ...


# A plain address needs none of the parsing smtplib.quoteaddr does for every message.
_PLAIN_ADDRESS = re.compile(r"[^\s<>()\[\],;:\\\"@]+@[^\s<>()\[\],;:\\\"@]+")


def _smtp_address(address: str) -> str:
    if _PLAIN_ADDRESS.fullmatch(address):
        return f"<{address}>"
    return smtplib.quoteaddr(address)


def _quote_periods(message: bytes) -> bytes:
    """Dot-stuffing (RFC 5321 4.5.2), searched for before it is done."""
    if message.startswith(b".") or b"\n." in message:
        return smtplib._quote_periods(message)  # type: ignore[attr-defined]
    return message


class SmtpTransport:
    """One SMTP connection, opened on first use and reused for every message.

    The DATA phase is written out by hand so we know whether a broken connection
    broke before the final dot left (safe to retry) or after (the server may have
    accepted it: unknown).

    With PIPELINING (RFC 2920), MAIL, RCPT and DATA go in one write, and the next
    message's MAIL, RCPT and DATA go in the same write as this message's body: one round
    trip per message. The next envelope commits the server to nothing (no body, no
    message); if that next message is not sent after all, the connection is dropped
    rather than the body ended, so the server abandons it.
    """

    def __init__(self) -> None:
        self.connection: smtplib.SMTP | None = None
        self.pipelining = False
        # (sender, recipient) whose MAIL/RCPT/DATA went out, answers not read yet.
        self.announced: tuple[str, str] | None = None

    def _connect(self) -> smtplib.SMTP:
        cls = smtplib.SMTP_SSL if settings.EMAIL_USE_SSL else smtplib.SMTP
        conn = cls(settings.EMAIL_HOST, settings.EMAIL_PORT, timeout=settings.EMAIL_TIMEOUT)
        if conn.sock is not None:
            # Commands go out whole in one write each; do not hold them back (Nagle).
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.ehlo()
        if settings.EMAIL_USE_TLS:
            conn.starttls()
            conn.ehlo()
        if settings.EMAIL_HOST_USER:
            conn.login(settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD)
        self.pipelining = conn.has_extn("pipelining")
        return conn

    def _drop(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(OSError):
                self.connection.close()
        self.connection = None
        self.announced = None

    @staticmethod
    def _envelope_commands(sender: str, recipient: str) -> list[str]:
        return [
            f"MAIL FROM:{_smtp_address(sender)}\r\n",
            f"RCPT TO:{_smtp_address(recipient)}\r\n",
            "DATA\r\n",
        ]

    def _envelope(self, conn: smtplib.SMTP, sender: str, recipient: str) -> Outcome | None:
        """MAIL, RCPT and DATA; None once the server waits for the message (354)."""
        commands = self._envelope_commands(sender, recipient)
        if self.pipelining:
            conn.send("".join(commands))
            answers = [conn.getreply(), conn.getreply(), conn.getreply()]
        else:
            answers = []
            for command in commands:
                conn.send(command)
                answers.append(conn.getreply())
                if answers[-1][0] not in (250, 251, 354):
                    break
        return self._envelope_answered(conn, answers)

    def _envelope_answered(
        self, conn: smtplib.SMTP, answers: list[tuple[int, bytes]]
    ) -> Outcome | None:
        mail_answer, rcpt_answer, data_answer = (answers + [(0, b"")] * 3)[:3]
        if data_answer[0] == 354 and (mail_answer[0] != 250 or rcpt_answer[0] not in (250, 251)):
            conn.send(".\r\n")  # a server that said 354 anyway gets an empty message
            conn.getreply()
        for code, answer in (mail_answer, rcpt_answer, data_answer):
            if code not in (250, 251, 354):
                conn.rset()
                if code == 421:
                    self._drop()
                return _by_code(code, answer)
        return None

    def send(
        self, sender: str, recipient: str, message: bytes, next_recipient: str | None = None
    ) -> Outcome:
        body_sent = False
        try:
            if self.announced is not None and self.announced != (sender, recipient):
                self._drop()  # announced someone else: the server abandons that envelope
            if self.connection is None:
                self.connection = self._connect()
            conn = self.connection
            if self.announced is not None:
                self.announced = None
                refused = self._envelope_answered(
                    conn, [conn.getreply(), conn.getreply(), conn.getreply()]
                )
            else:
                refused = self._envelope(conn, sender, recipient)
            if refused is not None:
                return refused
            data = _quote_periods(message)
            if not data.endswith(b"\r\n"):
                data += b"\r\n"
            data += b".\r\n"
            if next_recipient is not None and self.pipelining:
                data += "".join(self._envelope_commands(sender, next_recipient)).encode()
                self.announced = (sender, next_recipient)
            conn.send(data)
            body_sent = True
            code, answer = conn.getreply()
            if code == 421:
                self._drop()
            return _by_code(code, answer)
        except (OSError, smtplib.SMTPException) as error:
            self._drop()
            if body_sent:
                return Outcome("unknown", f"connection lost after the message was sent: {error}")
            return Outcome("retry", f"connection: {error}"[:500])

    def close(self) -> None:
        if self.connection is not None and self.announced is None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self.connection.quit()
        # With an envelope announced the server waits for a body: QUIT would be read as
        # part of it. Closing the connection makes it abandon that message.
        self._drop()


class DjangoBackendTransport:
    """For the in-memory and console backends (tests of other apps, the demo's console)."""

    def __init__(self) -> None:
        self.backend = mail.get_connection()

    def send(
        self, sender: str, recipient: str, message: bytes, next_recipient: str | None = None
    ) -> Outcome:
        from email import message_from_bytes, policy

        parsed = message_from_bytes(message, policy=policy.SMTP)
        email = mail.EmailMessage(
            subject=str(parsed.get("Subject", "")), from_email=sender, to=[recipient]
        )
        email.message = lambda *args, **kwargs: parsed  # type: ignore[method-assign]
        self.backend.send_messages([email])
        return Outcome("sent", "250 accepted by " + type(self.backend).__name__)

    def close(self) -> None:
        pass


def make_transport() -> Transport:
    if settings.EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend":
        return SmtpTransport()
    return DjangoBackendTransport()
