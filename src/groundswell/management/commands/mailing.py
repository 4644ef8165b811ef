"""`groundswell mailing list|send|pause|resume|cancel|report`: the staff buttons, in a shell."""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from groundswell.mailings import lanes, progress, recovery
from groundswell.mailings.actions.ab import do_choose_ab_winner, is_waiting_for_ab_winner
from groundswell.mailings.actions.send import (
    SendError,
    do_cancel_send,
    do_pause_send,
    do_resume_send,
    do_start_send,
)
from groundswell.mailings.models import Mailing, MailingStatus
from groundswell.reports.mailings import format_report_text, mailing_report


class Command(BaseCommand):
    help = "List mailings; send, pause, resume or cancel one; print its report."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="action", required=True)
        commands.add_parser(
            "list", help="One line per mailing: id, status, recipients, sent, subject."
        )
        send = commands.add_parser("send", help="Start sending a drafted mailing.")
        send.add_argument("mailing_id", type=int)
        send.add_argument(
            "--now",
            action="store_true",
            help="Send from this process and wait until done, printing progress.",
        )
        for name in ("pause", "resume", "cancel"):
            sub = commands.add_parser(name, help=f"{name.title()} the mailing's send.")
            sub.add_argument("mailing_id", type=int)
        report = commands.add_parser("report", help="Print the mailing's report.")
        report.add_argument("mailing_id", type=int)
        report.add_argument("--json", action="store_true", help="As JSON.")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "list":
            self.list_mailings()
            return
        mailing = Mailing.objects.filter(pk=options["mailing_id"]).first()
        if mailing is None:
            raise CommandError(f"No mailing with id {options['mailing_id']}.")
        try:
            if action == "send":
                self.send(mailing, now=options["now"])
            elif action == "pause":
                do_pause_send(mailing, actor="cli")
                self.stdout.write(f"Mailing {mailing.pk} paused.")
            elif action == "resume":
                do_resume_send(mailing, actor="cli")
                self.stdout.write(f"Mailing {mailing.pk} resumed.")
            elif action == "cancel":
                do_cancel_send(mailing, actor="cli")
                self.stdout.write(f"Mailing {mailing.pk} cancelled.")
            elif action == "report":
                self.report(mailing, as_json=options["json"])
        except SendError as error:
            raise CommandError(str(error)) from None

    def list_mailings(self) -> None:
        rows = (
            Mailing.objects.annotate(sent=progress.sent_count())
            .order_by("pk")
            .values_list("pk", "status", "recipient_count", "sent", "subject")
        )
        for row in rows:
            self.stdout.write("\t".join(str(value) for value in row))

    def send(self, mailing: Mailing, *, now: bool) -> None:
        mailing = do_start_send(mailing, actor="cli")
        self.stdout.write(f"Mailing {mailing.pk}: sending to {mailing.recipient_count} recipients.")
        if not now:
            self.stdout.write(
                "Workers (`groundswell worker`) send it; follow it with `mailing list`."
            )
            return
        self.send_here(mailing.pk)

    def _progress_line(self, mailing_id: int) -> str:
        mailing = Mailing.objects.get(pk=mailing_id)
        p = progress.progress(mailing)
        return (
            f"{p['status']}: {p['sent']}/{p['total']} sent, {p['failed']} failed, "
            f"{p['unknown']} unknown, {p['waiting']} waiting, {p['rate']}/s"
        )

    def send_here(self, mailing_id: int) -> None:
        """Run lanes in this process until the mailing is sent, paused or cancelled."""
        last_print = 0.0

        def show(report: lanes.LaneReport) -> None:
            nonlocal last_print
            if time.monotonic() - last_print >= 1.0:
                self.stdout.write(self._progress_line(mailing_id))
                last_print = time.monotonic()

        from groundswell.mailings.tasks import after_lane

        while True:
            report = lanes.SendLane(mailing_id, progress=show).run()
            mailing = Mailing.objects.get(pk=mailing_id)
            if mailing.status != MailingStatus.SENDING:
                break
            if progress.has_ready_recipients(mailing_id):
                continue
            retry_at = progress.next_retry_at(mailing_id)
            if report.stopped_because == "mail server unreachable" or retry_at is not None:
                wait_until = retry_at or timezone.now()
                wait = max(1.0, min(30.0, (wait_until - timezone.now()).total_seconds()))
                self.stdout.write(f"{self._progress_line(mailing_id)}; retrying in {wait:.0f} s")
                time.sleep(wait)
                continue
            if is_waiting_for_ab_winner(mailing):
                after_lane(mailing_id, report)  # fixes the decision time once samples are out
                mailing.refresh_from_db()
                if mailing.ab_decide_at is None:
                    time.sleep(1.0)  # another worker still holds sample recipients
                    continue
                wait = (mailing.ab_decide_at - timezone.now()).total_seconds()
                if wait > 0:
                    self.stdout.write(
                        f"A/B samples sent; choosing the winner at {mailing.ab_decide_at:%H:%M:%S}"
                    )
                    time.sleep(min(wait, 30.0))
                    continue
                mailing = do_choose_ab_winner(mailing)
                self.stdout.write(f"Subject {mailing.ab_winner} won; sending it to the rest.")
                continue
            if progress.pending_count(mailing_id):
                time.sleep(1.0)  # other workers are finishing their batches
                recovery.recover_dead_workers(mailing_id)
                continue
            after_lane(mailing_id, report)
            break
        self.stdout.write(self._progress_line(mailing_id))

    def report(self, mailing: Mailing, *, as_json: bool) -> None:
        data = mailing_report(mailing)
        if as_json:
            self.stdout.write(json.dumps(data, indent=2, default=str))
        else:
            self.stdout.write(format_report_text(data))
