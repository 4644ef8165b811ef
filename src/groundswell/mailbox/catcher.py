"""A local SMTP server that keeps every message it is handed, for the demo."""

from __future__ import annotations

import logging
from email import policy
from email.parser import BytesParser
from typing import Any

from aiosmtpd.controller import Controller

from groundswell.mailbox.store import save_message

logger = logging.getLogger("groundswell.mailbox")


class SaveToMailbox:
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        data = envelope.original_content or envelope.content
        if isinstance(data, str):
            data = data.encode("utf-8")
        recipients = list(envelope.rcpt_tos)
        path = save_message(data, mail_from=envelope.mail_from or "", rcpt_tos=recipients)
        subject = BytesParser(policy=policy.default).parsebytes(data, headersonly=True)["Subject"]
        logger.info("Caught an email to %s: %s (%s)", ", ".join(recipients), subject, path.name)
        return "250 Message accepted for delivery"


def start_mail_catcher(host: str, port: int) -> Controller:
    """Listen on host:port in a background thread; call .stop() on the result to end it."""
    # aiosmtpd narrates every SMTP command at INFO; one line per caught email is enough.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    controller = Controller(SaveToMailbox(), hostname=host, port=port)
    controller.start()
    return controller
