from __future__ import annotations

import os
import socket
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from groundswell.demo.run import Demo, DemoFailed
from groundswell.demo.staff import ensure_demo_logins
from groundswell.mailbox.store import mail_dir
from groundswell.petitions.models import Petition


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class Command(BaseCommand):
    help = (
        "Run the demo: migrate, load the demo campaigns into an empty database, make a staff "
        "login, then run the web server, a task worker and a mail catcher until Ctrl-C."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000, help="Web server port.")
        parser.add_argument(
            "--smtp-port", type=int, default=1025, help="Port of the mail catcher (SMTP)."
        )

    def handle(self, *args: Any, port: int, smtp_port: int, **options: Any) -> None:
        for number, flag in ((port, "--port"), (smtp_port, "--smtp-port")):
            if not port_is_free(number):
                raise CommandError(
                    f"Port {number} on 127.0.0.1 is in use; choose another with {flag}."
                )
        self.say("Preparing the database…")
        call_command("migrate", interactive=False, verbosity=0)
        if not Petition.objects.exists():
            self.say("Loading the demo campaigns (a few seconds)…")
            call_command("load_demo", stdout=self.stdout)
        logins = ensure_demo_logins()
        connections.close_all()

        demo = Demo(
            port=port,
            smtp_port=smtp_port,
            env={
                **os.environ,
                "BASE_URL": f"http://127.0.0.1:{port}",
                "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
                "GROUNDSWELL_DEMO": "1",
                "GROUNDSWELL_DATA_DIR": str(settings.DATA_DIR),
                "PYTHONUNBUFFERED": "1",
            },
            say=self.say,
        )

        def announce() -> None:
            base = demo.base_url
            pages = "\n".join(
                f"                {base}{petition.get_absolute_url()}"
                for petition in Petition.objects.order_by("created_at")
            )
            connections.close_all()
            staff = "\n".join(
                f"                {login.username} / {login.password}  ({login.story})"
                for login in logins
            )
            self.say(
                "\n"
                "Groundswell demo: ready.\n\n"
                f"  Site:         {base}/\n"
                f"  Petitions:\n{pages}\n"
                f"  Workspace:    {base}/staff/  (sign in at {base}/staff/login/)\n"
                f"  Staff admin:  {base}/admin/  (installation administrators)\n"
                f"  Staff logins:\n{staff}\n"
                f"  Mailbox:      {base}/staff/mailbox/\n"
                f"  Mail folder:  {mail_dir()}\n"
                f"  SMTP catcher: 127.0.0.1:{smtp_port}\n\n"
                "Press Ctrl-C to stop everything.\n"
            )

        try:
            demo.run(announce)
        except DemoFailed as failure:
            raise CommandError(str(failure), returncode=1) from None
        self.say("Groundswell demo stopped.")

    def say(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()
