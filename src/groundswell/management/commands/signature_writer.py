from __future__ import annotations

import os
import signal
import subprocess
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from groundswell.cli import groundswell_command, stop_process
from groundswell.petitions.writer_service import ANOTHER_IS_RUNNING, WriterService, socket_path


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
        parser.add_argument(
            "--supervise",
            action="store_true",
            help="Keep a writer running in a child process, starting it again when it dies.",
        )

    def handle(self, *args: Any, parent: int | None, supervise: bool, **options: Any) -> None:
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        if parent is None:
            signal.signal(signal.SIGINT, lambda *_: stop.set())
        else:
            # Started by a server (or its supervisor), it is stopped by that server once
            # the web workers are done, or goes when that server is gone. Ctrl-C reaches
            # the whole process group at once: stopping here then would leave the
            # workers' last signatures without their writer while they finish.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        if supervise:
            supervise_writer(stop, parent)
            return
        service = WriterService(socket_path())
        service.stop = stop
        status = service.run(parent_pid=parent)
        if status:
            raise SystemExit(status)


# The writer finishes the transaction it is writing, then stops; killed past this.
WRITER_STOP_SECONDS = 1.5


def supervise_writer(stop: threading.Event, parent: int | None) -> None:
    """Run the writer in a child and start it again a second after it dies (five
    seconds when another server's writer holds this data directory: it takes over when
    that one goes). A process of its own, not a thread of the web server's: there a
    killed writer was once left unrestarted for half a minute under load."""
    while not stop.is_set():
        writer = subprocess.Popen(
            groundswell_command("signature_writer", "--parent", str(os.getpid()))
        )
        while writer.poll() is None:
            if stop.wait(0.5) or (parent is not None and os.getppid() != parent):
                stop_process(writer, WRITER_STOP_SECONDS)
                return
        if writer.returncode != ANOTHER_IS_RUNNING:
            print(
                f"The signature writer exited (status {writer.returncode}); starting it again.",
                flush=True,
            )
        stop.wait(5.0 if writer.returncode == ANOTHER_IS_RUNNING else 1.0)
