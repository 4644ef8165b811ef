"""`groundswell process_bounces`: read a mailbox of bounce and complaint reports.

    groundswell process_bounces --maildir /var/mail/bounces [--delete]
    groundswell process_bounces --mbox /var/mail/bounces [--delete]
    groundswell process_bounces - < saved.mbox   (an mbox, or one message, on stdin)

Run it from cron. Reading the same message twice records it twice but changes
nothing more; --delete removes each message once it has been handled.
"""

from __future__ import annotations

import logging
import mailbox
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from groundswell.bounces.actions import do_process_report_message

logger = logging.getLogger(__name__)


def _messages(count: int) -> str:
    return f"{count} message" if count == 1 else f"{count} messages"


class Command(BaseCommand):
    help = "Act on the bounce and complaint reports in a Maildir, an mbox, or standard input."

    def add_arguments(self, parser: CommandParser) -> None:
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--maildir", metavar="PATH", help="a Maildir folder")
        source.add_argument("--mbox", metavar="PATH", help="an mbox file")
        source.add_argument(
            "stdin", nargs="?", choices=["-"], help="read an mbox or one message from stdin"
        )
        parser.add_argument(
            "--delete", action="store_true", help="remove each message once handled"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        totals: Counter[str] = Counter()
        if options["maildir"]:
            try:
                box: mailbox.Mailbox[Any] = mailbox.Maildir(
                    options["maildir"], factory=None, create=False
                )
            except mailbox.NoSuchMailboxError:
                raise CommandError(f"No mailbox at {options['maildir']}") from None
            self._read_box(box, totals, delete=options["delete"])
        elif options["mbox"]:
            if not Path(options["mbox"]).is_file():
                raise CommandError(f"No mailbox at {options['mbox']}")
            box = mailbox.mbox(options["mbox"], factory=None, create=False)
            box.lock()
            try:
                self._read_box(box, totals, delete=options["delete"])
            finally:
                box.unlock()
                box.close()
        else:
            for raw in split_mbox(sys.stdin.buffer.read()):
                self._handle(raw, totals)
        summary = ", ".join(f"{name} {count}" for name, count in sorted(totals.items()))
        read = totals.total() - totals["failed"]
        self.stdout.write(f"Read {_messages(read)}: {summary or '-'}")
        if totals["failed"]:
            raise CommandError(
                f"Could not record {_messages(totals['failed'])}; nothing unrecorded was deleted."
            )

    def _read_box(self, box: mailbox.Mailbox[Any], totals: Counter[str], *, delete: bool) -> None:
        for key in list(box.keys()):
            try:
                raw = box.get_bytes(key)
            except (KeyError, OSError):
                continue  # taken away by another reader meanwhile
            if self._handle(raw, totals) and delete:
                box.discard(key)
        box.flush()

    def _handle(self, raw: bytes, totals: Counter[str]) -> bool:
        try:
            outcomes = do_process_report_message(raw)
        except Exception:
            logger.exception("process_bounces: could not record a report; left in place")
            totals["failed"] += 1
            return False
        if not outcomes:
            totals["not a report"] += 1
        for outcome in outcomes:
            totals[f"{outcome.kind} ({outcome.matched or 'unmatched'})"] += 1
        return True


def split_mbox(data: bytes) -> Iterator[bytes]:
    """Messages of an mbox stream; a stream not starting with "From " is one message."""
    if not data.startswith(b"From "):
        if data.strip():
            yield data
        return
    current: list[bytes] = []
    for line in data.splitlines(keepends=True):
        if line.startswith(b"From ") and current:
            yield _unquote(current)
            current = []
        elif not line.startswith(b"From ") or current:
            current.append(line)
        # The first "From " line is the envelope separator, not part of the message.
    if current:
        yield _unquote(current)


def _unquote(lines: list[bytes]) -> bytes:
    # mboxrd quoting: ">From " at the start of a line was "From " in the message.
    return b"".join(line[1:] if line.startswith(b">From ") else line for line in lines)
