"""`groundswell sending pause-all` / `groundswell sending resume-all`: the sending kill
switch. resume-all resumes only what pause-all paused."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from groundswell.mailings.actions.kill_switch import (
    do_pause_all_sending,
    do_resume_all_sending,
    scheduled_mailings,
)


class Command(BaseCommand):
    help = "Pause every mailing that is sending, or resume the ones pause-all paused."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["pause-all", "resume-all"])

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "pause-all":
            changed = do_pause_all_sending(actor="cli")
            verb = "Paused"
        else:
            changed = do_resume_all_sending(actor="cli")
            verb = "Resumed"
        ids = ", ".join(str(m.pk) for m in changed) or "none"
        self.stdout.write(f"{verb} {len(changed)} mailings ({ids}).")
        waiting = scheduled_mailings()
        if action == "pause-all" and waiting:
            self.stdout.write(
                "Still scheduled to start on their own (unschedule them to stop them): "
                + ", ".join(str(m.pk) for m in waiting)
            )
