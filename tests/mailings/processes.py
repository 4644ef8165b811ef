"""Real processes for send tests: `groundswell` subprocesses on the test database, and an
SMTP sink in the test process that counts what each address received."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiosmtpd.controller import Controller
from django.db import connection

from tests.conftest import free_port

GROUNDSWELL = str(Path(sys.executable).with_name("groundswell"))
SINK = Path(__file__).resolve().parents[2] / "bench" / "smtp_sink.py"


class CountingSink:
    """Answers 250 to every message and counts deliveries per recipient address."""

    def __init__(self) -> None:
        self.received: Counter[str] = Counter()
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.received.update(envelope.rcpt_tos)
        return "250 OK queued"

    def counts(self) -> Counter[str]:
        with self.lock:
            return Counter(self.received)


@contextmanager
def counting_sink() -> Iterator[tuple[CountingSink, int]]:
    """aiosmtpd in this process: fine for a few messages (it shares our GIL)."""
    handler = CountingSink()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


class SinkProcess:
    """bench/smtp_sink.py in its own process, logging each accepted recipient to a file
    before it answers 250."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, str(SINK), str(self.port), "--log", str(log)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        assert self.process.stdout.readline().startswith("listening")

    def counts(self) -> Counter[str]:
        return Counter(self.log.read_text().split())

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@contextmanager
def sink_process(directory: Path) -> Iterator[SinkProcess]:
    sink = SinkProcess(directory / "received.log")
    try:
        yield sink
    finally:
        sink.stop()


def database_url() -> str:
    """The test database, as a URL a subprocess can use (pytest-django's test DB name)."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    user = quote(settings.get("USER") or "")
    password = quote(settings.get("PASSWORD") or "")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings.get("HOST") or "127.0.0.1"
    port = settings.get("PORT") or "5432"
    return f"postgres://{auth}{host}:{port}/{settings['NAME']}"


def groundswell_env(smtp_port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": database_url(),
            "TASKS_BACKEND": "database",
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def run_groundswell(env: dict[str, str], *args: str, timeout: float = 120) -> str:
    done = subprocess.run(
        [GROUNDSWELL, *args], env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def start_worker(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [GROUNDSWELL, "worker", "--interval", "0.1", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
