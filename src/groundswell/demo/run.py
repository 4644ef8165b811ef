"""Run the demo's processes together: web server, task worker and mail catcher.

One parent, its children in their own process groups so that the parent alone
decides when they stop: Ctrl-C, SIGTERM or a closed terminal stops them all; a
child that dies stops the rest, and the parent exits non-zero saying which.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType

from groundswell.cli import groundswell_command
from groundswell.demo.mailbox_copy import SCRIPT as MAILBOX_COPY_SCRIPT
from groundswell.mailbox.catcher import start_mail_catcher

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
READY_TIMEOUT = 90.0
STOP_TIMEOUT = 10.0
COPY_TIMEOUT = 60.0


class DemoFailed(Exception):
    """A child died or the site never answered; the message says which."""


@dataclass
class Child:
    name: str
    args: list[str]
    process: subprocess.Popen[bytes] | None = None

    def start(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            self.args, env=env, stdin=subprocess.DEVNULL, start_new_session=True
        )

    def exit_code(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def signal_group(self, signum: int) -> bool:
        """Signal the child and anything it started; False when none of them is left."""
        if self.process is None:
            return False
        try:
            os.killpg(self.process.pid, signum)
        except ProcessLookupError:
            return False
        return True


@dataclass
class Demo:
    port: int
    smtp_port: int
    env: dict[str, str]
    say: Callable[[str], None]
    children: list[Child] = field(default_factory=list)
    stop_signal: int | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def run(self, announce: Callable[[], None]) -> None:
        """Run until a stop signal (returns) or a failure (raises DemoFailed)."""
        previous = {signum: signal.signal(signum, self._on_signal) for signum in STOP_SIGNALS}
        catcher = start_mail_catcher("127.0.0.1", self.smtp_port)
        self.children = [
            Child(
                "web server",
                groundswell_command("serve", "--bind", f"127.0.0.1:{self.port}", "--workers", "1"),
            ),
            Child("task worker", groundswell_command("worker")),
        ]
        try:
            for child in self.children:
                child.start(self.env)
            if self._wait_until_site_answers():
                self._put_copy_in_mailbox()
                announce()
                while self.stop_signal is None:
                    self._check_children()
                    time.sleep(0.2)
        finally:
            self._stop_children()
            catcher.stop()
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.stop_signal = signum

    def _check_children(self) -> None:
        for child in self.children:
            code = child.exit_code()
            if code is not None:
                raise DemoFailed(
                    f"The {child.name} stopped unexpectedly (exit code {code}); "
                    "stopped the others. Its messages are above."
                )

    def _wait_until_site_answers(self) -> bool:
        deadline = time.monotonic() + READY_TIMEOUT
        url = f"{self.base_url}/staff/login/"
        while self.stop_signal is None:
            self._check_children()
            try:
                with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return True
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise DemoFailed(f"The site did not answer at {url} within {READY_TIMEOUT:.0f} s.")
            time.sleep(0.25)
        return False

    def _put_copy_in_mailbox(self) -> None:
        """A member's own copy of the demo mailing, sent to the catcher (see mailbox_copy.py).

        The demo runs on without it if it fails: the mailbox is only emptier.
        """
        copy = subprocess.Popen(
            [sys.executable, "-m", MAILBOX_COPY_SCRIPT],
            env=self.env,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + COPY_TIMEOUT
        try:
            while copy.poll() is None:
                self._check_children()
                if self.stop_signal is not None or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
        finally:
            if copy.poll() is None:
                copy.kill()
                copy.wait()
                if self.stop_signal is None:
                    self.say(
                        "The demo mailing's member copy took too long; carrying on without it."
                    )
        if copy.returncode not in (0, -signal.SIGKILL):
            self.say("The demo mailing's member copy was not sent (see above); carrying on.")

    def _stop_children(self) -> None:
        running = [child for child in self.children if child.signal_group(signal.SIGTERM)]
        deadline = time.monotonic() + STOP_TIMEOUT
        for child in running:
            assert child.process is not None
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.say(f"The {child.name} did not stop within {STOP_TIMEOUT:.0f} s; killing it.")
        # Whatever is left in a child's group (the leader or processes it started) goes now.
        for child in self.children:
            child.signal_group(signal.SIGKILL)
            if child.process is not None:
                child.process.wait()
