from __future__ import annotations

import signal
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from groundswell.petitions.writer_service import WriterService, socket_path


class Command(BaseCommand):
    help = (
        "Write the signatures of every server process on this machine together "
        "(started by `groundswell serve`; see petitions/writer_service.py)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--parent",
            type=int,
            default=None,
            help="Stop when the process with this id is no longer this one's parent.",
        )

    def handle(self, *args: Any, parent: int | None, **options: Any) -> None:
        service = WriterService(socket_path())
        signal.signal(signal.SIGTERM, lambda *_: service.stop.set())
        signal.signal(signal.SIGINT, lambda *_: service.stop.set())
        status = service.run(parent_pid=parent)
        if status:
            raise SystemExit(status)
