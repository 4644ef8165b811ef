"""`groundswell process_bounce`: read one message on standard input (MTA pipe delivery).

For example in /etc/aliases: `bounces: "|/srv/gs/.venv/bin/groundswell process_bounce"`.
Exit status 0 when the message was handled or is not a report (the MTA forgets it),
75 (EX_TEMPFAIL) when it could not be recorded: the MTA keeps it and tries again.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from django.core.management.base import BaseCommand

from groundswell.bounces.actions import do_process_report_message

logger = logging.getLogger(__name__)

EX_TEMPFAIL = 75
# A bounce carrying a whole newsletter is still far below this; anything larger is not
# a report worth reading.
MAX_MESSAGE_BYTES = 20 * 1024 * 1024


class Command(BaseCommand):
    help = "Read one bounce or complaint report from standard input and act on it."

    def handle(self, *args: Any, **options: Any) -> None:
        raw = sys.stdin.buffer.read(MAX_MESSAGE_BYTES + 1)
        if len(raw) > MAX_MESSAGE_BYTES:
            self.stderr.write("process_bounce: message too large, ignored")
            return
        try:
            outcomes = do_process_report_message(raw)
        except Exception:
            logger.exception("process_bounce: could not record the report")
            sys.exit(EX_TEMPFAIL)
        for outcome in outcomes:
            self.stdout.write(f"{outcome.kind}: {outcome.matched or 'unmatched'}")
