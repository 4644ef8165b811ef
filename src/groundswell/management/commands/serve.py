from __future__ import annotations

import contextlib
import logging
import os
import subprocess
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from groundswell.cli import groundswell_command, stop_process
from groundswell.lib.stopping import forward_stop_signals
from groundswell.petitions.writer_service import wait_until_listening


def parse_bind(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise CommandError(f"--bind must look like HOST:PORT, e.g. 127.0.0.1:8000; got {value!r}.")
    return host.strip("[]"), int(port)


class Command(BaseCommand):
    help = "Serve the site with the production server (granian, WSGI), static files included."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default="127.0.0.1:8000", help="HOST:PORT to listen on.")
        # One more worker than cores: the writer and the database take CPU in bursts
        # and a worker's threads share one interpreter lock (docs/performance.md).
        parser.add_argument(
            "--workers",
            type=int,
            default=(os.cpu_count() or 1) + 1,
            help="Worker processes (default: one more than CPU cores).",
        )
        # A sign request mostly waits for the writer, and more waiting together means
        # fuller commits; each thread may hold a connection (docs/performance.md).
        parser.add_argument(
            "--threads",
            type=int,
            default=0,
            help=(
                "Threads per worker (default: 16; on PostgreSQL fewer, down to 4, should "
                f"workers x 16 pass {POSTGRESQL_CONNECTIONS} connections)."
            ),
        )
        parser.add_argument("--access-log", action="store_true", help="Log every request.")

    def handle(self, *args: Any, **options: Any) -> None:
        from granian import Granian
        from granian.constants import Interfaces

        host, port = parse_bind(options["bind"])
        if options["workers"] < 1:
            raise CommandError("--workers must be at least 1.")
        if options["threads"] < 0:
            raise CommandError("--threads must be at least 1 (0: the default).")
        threads = options["threads"] or default_threads(options["workers"])
        if settings.DEBUG:
            self.stderr.write("Warning: DEBUG is on; do not serve real traffic like this.")
        self.stdout.write(f"Serving {settings.BASE_URL} on http://{host}:{port}/", ending="\n")
        self.stdout.flush()
        # The workers forward stop signals to their main thread (lib/stopping.py);
        # so does this process, which waits for them.
        os.environ["GROUNDSWELL_SERVE"] = "1"
        forward_stop_signals()
        with self.signature_writer():
            server = Granian(
                target="groundswell.wsgi:application",
                address=host,
                port=port,
                interface=Interfaces.WSGI,
                workers=options["workers"],
                blocking_threads=threads,
                log_access=options["access_log"],
                respawn_failed_workers=True,
                # A worker that has not stopped by then is killed, so the server is
                # gone within ten seconds of Ctrl-C or SIGTERM whatever happens.
                workers_kill_timeout=WORKERS_STOP_SECONDS,
            )
            # Granian warns when a worker has more threads than 2 x cores + 1. Ours
            # are that many on purpose (see --threads), so nobody is told to cut them.
            logging.getLogger("_granian").addFilter(_not_the_thread_count_warning)
            server.serve()

    @contextlib.contextmanager
    def signature_writer(self) -> Iterator[None]:
        """The machine's signature writer (petitions/writer_service.py) beside the web
        workers, started again should it die; until it answers, each worker writes its
        own signatures."""
        if not settings.SIGN_GROUP_COMMIT:
            yield
            return
        child = WriterChild()
        child.start()
        # Before the workers: beside them it came up slowly under load, and until it
        # does every worker writes its own signatures (docs/performance.md).
        if not wait_until_listening(WRITER_START_TIMEOUT):
            self.stderr.write(
                "The signature writer has not started yet; until it does, each worker "
                "writes its own signatures."
            )
        try:
            yield
        finally:
            child.stop()


# How long serve waits for the signature writer before starting the workers anyway.
WRITER_START_TIMEOUT = 15.0

# After Ctrl-C or SIGTERM: the workers finish the requests they hold (a signature is
# acknowledged only once committed) and write their buffered clicks, then the
# signature writer finishes its transaction; each is killed past its time, which
# together stay under ten seconds (docs/operations.md).
WORKERS_STOP_SECONDS = 6
WRITER_STOP_SECONDS = 2.5

# Connections the web workers may hold between them on PostgreSQL by default: under its
# default max_connections of 100, leaving room for the signature writer, task workers
# and the administrator.
POSTGRESQL_CONNECTIONS = 80


def _not_the_thread_count_warning(record: logging.LogRecord) -> bool:
    return "Python threads" not in record.getMessage()


def default_threads(workers: int) -> int:
    if connection.vendor != "postgresql":
        return 16
    return max(4, min(16, POSTGRESQL_CONNECTIONS // workers))


class WriterChild:
    """`groundswell signature_writer --supervise`: keeps the writer running, starting it
    again when it dies, and stops it when this server stops or is gone."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        # On PostgreSQL in a session of its own, so the kernel's autogroup weighs it
        # against the whole server, not each request thread; on SQLite that made it
        # slower (docs/performance.md). It stops with the server (it watches its
        # parent), not at the terminal's Ctrl-C.
        self.process = subprocess.Popen(
            groundswell_command("signature_writer", "--supervise", "--parent", str(os.getpid())),
            start_new_session=connection.vendor == "postgresql",
        )

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, WRITER_STOP_SECONDS)
