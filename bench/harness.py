"""Set-up for the benchmarks: a fresh data dir (and PostgreSQL database), migrations,
a petition, and a production server in its own process. Nothing here imports Django:
the server and the set-up script run in subprocesses with the environment built here.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SETUP_SCRIPT = Path(__file__).resolve().parent / "setup_data.py"


def cpu_calibration() -> float:
    """Microseconds for sum(range(1000)) here: relates figures to another machine's."""
    import timeit

    runs = timeit.repeat("sum(range(1000))", number=2000, repeat=5)
    return min(runs) / 2000 * 1e6


def load_warning() -> str:
    """The bench shares the machine: say so when something else is using the CPU.

    Judged by the cores left idle over one second, not by the load average: that
    counts runnable threads, so a previous run's server (dozens of request threads)
    kept it near 12 for minutes after it had stopped (seen here, with nothing running).
    """
    one, five, _ = os.getloadavg()
    before = cpu_ticks()
    time.sleep(1)
    busy = (os.cpu_count() or 1) - idle_cores(before, cpu_ticks())
    if busy < 0.25:
        return f"{busy:.2f} cores busy over the last second (load average {one:.2f}): quiet"
    return (
        f"{busy:.2f} cores busy over the last second (load average {one:.2f}, 5 min "
        f"{five:.2f}): something else is using the CPU, so these figures are low; run "
        "again on a quiet machine"
    )


def load_after() -> str:
    """The load average once the run is over: its own server's threads count in it."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (5 min {five:.2f}), this run's own server included"


def cpu_ticks() -> tuple[int, int]:
    """The whole machine's idle and total CPU time so far (/proc/stat), in ticks."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    # user nice system idle iowait irq softirq steal (guest time is inside user)
    return fields[3] + fields[4], sum(fields[:8])


def idle_cores(before: tuple[int, int], after: tuple[int, int]) -> float:
    """How many of the machine's cores sat idle between two cpu_ticks() readings."""
    total = after[1] - before[1]
    return (os.cpu_count() or 1) * (after[0] - before[0]) / total if total else 0.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Site:
    data_dir: Path
    env: dict[str, str]
    database: str  # "sqlite" or "postgresql"
    database_name: str


@contextlib.contextmanager
def _postgres_database(url: str) -> Iterator[str]:
    """A fresh gs_bench_* database on the server DATABASE_URL points at, dropped after."""
    import psycopg

    parts = urlsplit(url)
    name = f"gs_bench_{os.getpid()}_{secrets.token_hex(3)}"
    admin = urlunsplit(parts._replace(path="/postgres", query=""))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def site(keep: bool = False) -> Iterator[Site]:
    """Migrated, with one open petition, its sponsor, and the bench table."""
    data_dir = Path(tempfile.mkdtemp(prefix="gs-bench-"))
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DEBUG", "GROUNDSWELL_DEMO", "DJANGO_SETTINGS_MODULE")
    }
    env.update(
        SECRET_KEY=secrets.token_urlsafe(40),
        SUPPRESSION_KEY=secrets.token_hex(32),
        GROUNDSWELL_DATA_DIR=str(data_dir),
        GROUNDSWELL_BENCH_ENDPOINTS="1",
        DEBUG="0",
        # INFO, for the signature writer's summary when it stops (printed below).
        LOG_LEVEL="INFO",
        # Nothing is sent during the bench: thank-you emails wait in the task queue.
        EMAIL_URL="console://",
        # The load generator speaks for a crowd: each signature comes "through a proxy"
        # from an address of its own (X-Forwarded-For), so the rate limits count it as
        # they would a real crowd's (bench/sign.py).
        TRUSTED_PROXIES="127.0.0.1,::1",
        PYTHONUNBUFFERED="1",
        # The server and set-up import the tree this script is in, even from a worktree.
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")])),
    )
    database_url = os.environ.get("DATABASE_URL", "")
    try:
        with contextlib.ExitStack() as stack:
            if database_url:
                env["DATABASE_URL"] = stack.enter_context(_postgres_database(database_url))
                kind, name = "postgresql", urlsplit(env["DATABASE_URL"]).path.lstrip("/")
            else:
                env.pop("DATABASE_URL", None)
                kind, name = "sqlite", str(data_dir / "groundswell.sqlite3")
            _run([str(BIN / "groundswell"), "migrate", "--no-input", "-v", "0"], env)
            _run([sys.executable, str(SETUP_SCRIPT), "setup"], env)
            yield Site(data_dir, env, kind, name)
    finally:
        if not keep:
            shutil.rmtree(data_dir, ignore_errors=True)


def _run(cmd: list[str], env: dict[str, str]) -> str:
    proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"bench: {' '.join(cmd[:3])} failed (exit {proc.returncode})")
    return proc.stdout


def refresh_statistics(s: Site) -> None:
    """PostgreSQL: ANALYZE, as autovacuum does within a minute or so of a table's rows
    changing. The bench's tables fill within seconds of being created; without this,
    each scenario ran on the statistics of an empty table, and the planner walked a
    petition's every signature where an index would find a few. SQLite plans
    without statistics."""
    if s.database != "postgresql":
        return
    import psycopg

    with psycopg.connect(s.env["DATABASE_URL"], autocommit=True) as conn:
        conn.execute("ANALYZE")


def site_info(s: Site) -> dict[str, object]:
    """Counts of rows the run wrote, to check that every 303 was a signature."""
    return json.loads(_run([sys.executable, str(SETUP_SCRIPT), "count"], s.env))


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int
    description: str
    log: Path

    def cpu_seconds(self) -> float:
        """User + system CPU of the server and its workers, from /proc."""
        total = 0.0
        tick = os.sysconf("SC_CLK_TCK")
        for pid in [*_descendants(self.proc.pid), self.proc.pid]:
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / tick
        return total

    def wait_until_idle(self, *, busy_below: float = 0.2, longest: float = 60.0) -> float:
        """Wait until the server uses less than `busy_below` cores over half a second
        (the click and open buffers written, for one), at most `longest` seconds;
        returns the seconds waited. Each scenario then starts on a settled server, not
        on the previous one's leftovers (a closed loop on /go/ buffers far more clicks
        in ten seconds than a real wave does)."""
        started = time.monotonic()
        while time.monotonic() - started < longest:
            before, at = self.cpu_seconds(), time.monotonic()
            time.sleep(0.5)
            if (self.cpu_seconds() - before) / (time.monotonic() - at) < busy_below:
                break
        return time.monotonic() - started

    def writer_schedstat(self) -> tuple[int, int] | None:
        """Nanoseconds the signature writer's main thread has spent on a CPU, and
        runnable but waiting for one (/proc/<pid>/schedstat); None without a writer."""
        for pid in _descendants(self.proc.pid):
            with contextlib.suppress(OSError):
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
                if b"signature_writer" in cmdline and b"--supervise" not in cmdline:
                    on_cpu, waiting, _ = Path(f"/proc/{pid}/schedstat").read_text().split()
                    return int(on_cpu), int(waiting)
        return None


def _descendants(pid: int) -> list[int]:
    children: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            text = (task / "children").read_text().split()
            for child in map(int, text):
                children += [child, *_descendants(child)]
    return children


def server_command(kind: str, port: int, workers: int, threads: int) -> tuple[list[str], str]:
    bind = f"127.0.0.1:{port}"
    if kind == "granian":
        # 0 workers or threads: the server's own defaults.
        cmd = [str(BIN / "groundswell"), "serve", "--bind", bind]
        if workers > 0:
            cmd += ["--workers", str(workers)]
        if threads > 0:
            cmd += ["--threads", str(threads)]
        shape = (
            f"{workers if workers > 0 else 'default'} workers x "
            f"{threads if threads > 0 else 'default'} threads"
        )
        return cmd, f"groundswell serve (granian WSGI), {shape}"
    workers = workers if workers > 0 else 2
    gunicorn = [str(BIN / "gunicorn"), "groundswell.wsgi:application", "--bind", bind]
    gunicorn += ["--workers", str(workers), "--log-level", "warning"]
    if kind == "gunicorn-sync":
        return [*gunicorn, "--worker-class", "sync"], f"gunicorn sync, {workers} workers"
    if kind == "gunicorn-gthread":
        gunicorn += ["--worker-class", "gthread", "--threads", str(threads)]
        return gunicorn, f"gunicorn gthread, {workers} workers x {threads} threads"
    raise SystemExit(f"bench: unknown server {kind!r}")


@contextlib.contextmanager
def server(s: Site, kind: str = "granian", workers: int = 2, threads: int = 0) -> Iterator[Server]:
    """Start a production server on a free port; stop it (SIGTERM, then SIGKILL) after."""
    port = free_port()
    env = dict(s.env, BASE_URL=f"http://127.0.0.1:{port}")
    if threads <= 0 and kind == "gunicorn-gthread":
        threads = 4
    cmd, description = server_command(kind, port, workers, threads)
    log = s.data_dir / f"server-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    srv = Server(proc, port, description, log)
    try:
        _wait_ready(srv)
        yield srv
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
        _print_writer_summary(log)


def _print_writer_summary(log: Path) -> None:
    """How many signatures the machine's signature writer wrote, in how many
    transactions (petitions/writer_service.py logs it when it stops)."""
    for line in log.read_text(errors="replace").splitlines():
        _, found, summary = line.partition("signature writer stopped: ")
        if found:
            written = json.loads(summary)
            per = written["signatures"] / max(1, written["transactions"])
            print(
                f"Signature writer: {written['signatures']:,} signatures in "
                f"{written['transactions']:,} transactions ({per:.1f} each)"
            )


def _wait_ready(srv: Server, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    url = f"http://127.0.0.1:{srv.port}/bench/ok/"
    while time.monotonic() < deadline:
        if srv.proc.poll() is not None:
            break
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    sys.stderr.write(srv.log.read_text(errors="replace")[-4000:])
    raise SystemExit(f"bench: the server ({srv.description}) did not answer {url}")
