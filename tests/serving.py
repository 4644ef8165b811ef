"""A `groundswell serve` (or worker) that a test starts as its own process: its
environment, starting it, waiting until it is ready, and stopping it for its output."""

from __future__ import annotations

import os
import signal
import subprocess
import urllib.request
from pathlib import Path

from tests.mailings.processes import GROUNDSWELL
from tests.waiting import wait_until


def server_env(**extra: str) -> dict[str, str]:
    """This process's environment, for a server whose test signs at machine speed from
    one address: the signing defences (rate limits, minimum time), which
    tests/petitions/test_sign_defences.py tests, are off."""
    return dict(os.environ, SIGN_LIMITS="off", SIGN_MIN_SECONDS="0", **extra)


def start_serve(
    port: int,
    *,
    data_dir: Path,
    database_url: str,
    workers: int,
    threads: int | None = None,
    **settings: str,
) -> subprocess.Popen[str]:
    """`groundswell serve` on 127.0.0.1:`port` with its own data directory, logging
    warnings unless told otherwise; its output (stdout and stderr together) is kept
    for `stop_serve`."""
    settings.setdefault("LOG_LEVEL", "WARNING")
    env = server_env(
        DATABASE_URL=database_url,
        GROUNDSWELL_DATA_DIR=str(data_dir),
        BASE_URL=f"http://127.0.0.1:{port}",
        **settings,
    )
    command = [GROUNDSWELL, "serve", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
    if threads is not None:
        command += ["--threads", str(threads)]
    return subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def is_ready(base: str) -> bool:
    """Whether the server at `base` answers /readyz with 200 (database and signature
    writer reachable)."""
    try:
        with urllib.request.urlopen(f"{base}/readyz", timeout=5) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def wait_until_ready(base: str, timeout: float = 60, what: str = "the server to be ready") -> None:
    wait_until(lambda: is_ready(base), timeout, what)


def stop_serve(serve: subprocess.Popen[str]) -> str:
    """SIGTERM, as a service manager stops it; its output, also printed so that a
    failing test shows it."""
    serve.send_signal(signal.SIGTERM)
    output, _ = serve.communicate(timeout=30)
    print(output)
    return output
