"""A local SMTP server that keeps every message it is handed, for the demo."""

from __future__ import annotations

from typing import Any

from aiosmtpd.controller import Controller

from groundswell.mailbox.store import save_message


class SaveToMailbox:
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        data = envelope.original_content or envelope.content
        if isinstance(data, str):
            data = data.encode("utf-8")
        save_message(data, mail_from=envelope.mail_from or "", rcpt_tos=list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"


def start_mail_catcher(host: str, port: int) -> Controller:
    """Listen on host:port in a background thread; call .stop() on the result to end it."""
    controller = Controller(SaveToMailbox(), hostname=host, port=port)
    controller.start()
    return controller
