"""The README's first command: `groundswell demo`, run for real against a temporary data dir.

It always uses SQLite in that directory (DATABASE_URL is removed from its
environment), so running it on PostgreSQL CI cannot touch the shared database.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import smtplib
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from django.db import connection

from tests.conftest import free_port
from tests.waiting import wait_until

# The demo keeps its own SQLite database whatever DATABASE_URL says (demo_env drops it,
# as a user's shell has none): a PostgreSQL run would repeat these tests exactly.
ITS_OWN_DATABASE = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="the demo keeps its own SQLite database; once is enough"
)
pytestmark = [pytest.mark.slow, ITS_OWN_DATABASE]

GROUNDSWELL = str(Path(sys.executable).with_name("groundswell"))
# What the test environment sets for in-process tests; a person typing the command has none.
NOT_IN_A_USERS_SHELL = (
    "SECRET_KEY",
    "SUPPRESSION_KEY",
    "DATABASE_URL",
    "EMAIL_URL",
    "BASE_URL",
    "ALLOWED_HOSTS",
    "TASKS_BACKEND",
    "GROUNDSWELL_DEMO",
)
START_TIMEOUT = 180.0


def demo_env(data_dir: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in NOT_IN_A_USERS_SHELL}
    env["GROUNDSWELL_DATA_DIR"] = str(data_dir)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def parent_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name in brackets may contain spaces; the parent pid follows it.
    return int(stat.rsplit(")", 1)[1].split()[1])


def descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            parent = parent_of(int(entry.name))
            if parent is not None:
                children.setdefault(parent, []).append(int(entry.name))
    found: set[int] = set()
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def is_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except (FileNotFoundError, ProcessLookupError):
        return ""


@dataclass
class RunningDemo:
    process: subprocess.Popen[bytes]
    port: int
    smtp_port: int
    data_dir: Path
    log: Path

    @property
    def output(self) -> str:
        return self.log.read_text(errors="replace")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_until_site_answers(self) -> None:
        try:
            wait_until(self.site_answers, START_TIMEOUT, "the site to answer")
        except AssertionError as error:
            pytest.fail(f"{error}:\n{self.output}")

    def site_answers(self) -> bool:
        assert self.process.poll() is None, f"demo exited early:\n{self.output}"
        try:
            return httpx.get(f"{self.base_url}/staff/login/", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_for_output(self, text: str, timeout: float = 30.0) -> None:
        try:
            wait_until(lambda: text in self.output, timeout, f"{text!r} to be printed")
        except AssertionError as error:
            pytest.fail(f"{error}:\n{self.output}")

    def wait_for_exit(self, timeout: float = 40.0) -> int:
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"demo did not stop within {timeout} s:\n{self.output}")


StartDemo = Callable[..., RunningDemo]


@pytest.fixture
def start_demo(tmp_path: Path) -> Iterator[StartDemo]:
    started: list[RunningDemo] = []

    def start(*extra: str) -> RunningDemo:
        data_dir = tmp_path / "data"
        log = tmp_path / "demo.log"
        port, smtp_port = free_port(), free_port()
        with log.open("wb") as out:
            process = subprocess.Popen(
                [GROUNDSWELL, "demo", "--port", str(port), "--smtp-port", str(smtp_port), *extra],
                env=demo_env(data_dir),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        demo = RunningDemo(process, port, smtp_port, data_dir, log)
        started.append(demo)
        return demo

    yield start
    for demo in started:
        # A failed test must not leave servers behind either.
        leftovers = descendants(demo.process.pid)
        if demo.process.poll() is None:
            demo.process.kill()
            demo.process.wait()
        for pid in leftovers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def log_in(client: httpx.Client, password: str) -> None:
    client.get("/staff/login/")
    response = client.post(
        "/staff/login/",
        data={
            "username": "staff",
            "password": password,
            "csrfmiddlewaretoken": client.cookies["csrftoken"],
            "next": "/admin/",
        },
        headers={"Referer": f"{client.base_url}/staff/login/"},
    )
    assert response.status_code == 302, response.text[:2000]


class TestDemoCommand:
    def test_it_runs_site_worker_and_mail_catcher_until_ctrl_c(self, start_demo: StartDemo) -> None:
        demo = start_demo()
        demo.wait_until_site_answers()
        demo.wait_for_output("Press Ctrl-C")
        output = demo.output
        assert "ready" in output
        assert f"http://127.0.0.1:{demo.port}/admin/" in output
        assert f"http://127.0.0.1:{demo.port}/staff/mailbox/" in output
        assert str(demo.data_dir / "mail") in output
        assert "/sign/microsoft-end-ice-contract/" in output
        password = (demo.data_dir / "staff_password").read_text().strip()
        assert re.search(rf"staff / {re.escape(password)}(\s|$)", output)
        # The demo made its own secret, and the data stayed in the temporary directory.
        assert (demo.data_dir / "secret_key").exists()
        assert (demo.data_dir / "groundswell.sqlite3").exists()

        message = EmailMessage()
        message["From"] = "Fieldstone Action <updates@fieldstone.example>"
        message["To"] = "katy@example.org"
        message["Subject"] = "Tell Microsoft to stop enabling ICE"
        message.set_content("Dear Katy,\n\nAdd your name.\n")
        with smtplib.SMTP("127.0.0.1", demo.smtp_port, timeout=10) as smtp:
            smtp.send_message(message)
        # (The demo's own copy of its mailing for one member is there too: tests/demo/.)
        caught = [
            path
            for path in (demo.data_dir / "mail").glob("*.eml")
            if b"Subject: Tell Microsoft to stop enabling ICE" in path.read_bytes()
            and b"To: katy@example.org" in path.read_bytes()
        ]
        assert len(caught) == 1

        with httpx.Client(base_url=demo.base_url, timeout=10) as client:
            log_in(client, password)
            mailbox = client.get("/staff/mailbox/")
            assert mailbox.status_code == 200
            assert "Tell Microsoft to stop enabling ICE" in mailbox.text
            petitions = client.get("/admin/petitions/petition/")
            assert "microsoft" in petitions.text.lower()

        children = descendants(demo.process.pid)
        assert any(" serve " in command_line(pid) for pid in children)
        assert any(command_line(pid).rstrip().endswith(" worker") for pid in children)
        demo.process.send_signal(signal.SIGINT)
        assert demo.wait_for_exit() == 0, demo.output
        assert "Groundswell demo stopped." in demo.output
        assert [pid for pid in children if is_alive(pid)] == []
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"{demo.base_url}/staff/login/", timeout=2)

    def test_it_keeps_the_staff_password_and_data_across_restarts_and_sigterm(
        self, start_demo: StartDemo
    ) -> None:
        first = start_demo()
        first.wait_until_site_answers()
        first.wait_for_output("Press Ctrl-C")
        first.process.send_signal(signal.SIGTERM)
        assert first.wait_for_exit() == 0, first.output
        password = (first.data_dir / "staff_password").read_text().strip()

        second = start_demo()
        second.wait_until_site_answers()
        second.wait_for_output("Press Ctrl-C")
        assert f"staff / {password}" in second.output
        assert "Loading the demo campaigns" not in second.output
        with httpx.Client(base_url=second.base_url, timeout=10) as client:
            log_in(client, password)
        second.process.send_signal(signal.SIGINT)
        assert second.wait_for_exit() == 0, second.output

    def test_it_stops_everything_and_fails_when_a_child_dies(self, start_demo: StartDemo) -> None:
        demo = start_demo()
        demo.wait_until_site_answers()
        demo.wait_for_output("Press Ctrl-C")
        children = descendants(demo.process.pid)
        worker = next(pid for pid in children if command_line(pid).rstrip().endswith(" worker"))
        os.kill(worker, signal.SIGKILL)
        code = demo.wait_for_exit()
        assert code != 0
        assert "task worker stopped unexpectedly" in demo.output
        assert [pid for pid in children if is_alive(pid)] == []

    def test_it_says_which_port_is_taken(self, start_demo: StartDemo) -> None:
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen()
            taken = busy.getsockname()[1]
            data_dir = Path(os.environ["GROUNDSWELL_DATA_DIR"]) / "demo-port-taken"
            result = subprocess.run(
                [GROUNDSWELL, "demo", "--port", str(taken), "--smtp-port", str(free_port())],
                env=demo_env(data_dir),
                capture_output=True,
                text=True,
                timeout=60,
            )
        assert result.returncode != 0
        assert f"Port {taken} on 127.0.0.1 is in use" in result.stderr
