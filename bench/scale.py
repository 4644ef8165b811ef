"""`make bench-scale`: two nodes against one PostgreSQL, and the loss of one of them.

Each node is what one host would run: `groundswell serve` and `groundswell worker`
with a data directory and port of its own, sharing only the database, SECRET_KEY and
SUPPRESSION_KEY (docs/deploy.md). The bench

1. signs for a few seconds through node A alone, then through both at once, and
   prints signatures per second and PostgreSQL's CPU per signature (from /proc: the
   backends serving this database, and every postgres process of the machine);
2. starts a mailing to a few thousand people, sent by both nodes' workers to a local
   SMTP sink, while signers sign through both nodes; once a third of the mailing has
   gone, kills node B's server and worker with SIGKILL and deletes its data
   directory, as if the host were lost;
3. checks that every signature answered 303 is in the database and the public count
   equals the rows, that every recipient was sent exactly once or is marked unknown
   (at most one window of the lost worker's), and that node A finished the mailing,
   and how long it took.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/scale.py

It needs PostgreSQL (a fresh gs_bench_* database is created and dropped) and reads
other processes' CPU from /proc, so it is for Linux. The machine's other load counts
in the figures: run it with nice on a quiet machine, and read docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness
import loadgen
import mail
import sign

# How long a node lost with its journal may take to be noticed: a send worker's and a
# task's heartbeat go stale after 60 s (mailings/recovery.py, taskworker.py), and the
# survivor's periodic check runs every 30 s.
RECOVERY_BOUND = 150.0


@dataclass
class Node:
    name: str
    data_dir: Path
    port: int
    env: dict[str, str]
    serve: subprocess.Popen[bytes] | None = None
    worker: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start_serve(self) -> None:
        log = (self.data_dir / "serve.log").open("wb")
        self.serve = subprocess.Popen(
            [str(harness.BIN / "groundswell"), "serve", "--bind", f"127.0.0.1:{self.port}"],
            env=self.env,
            cwd=harness.ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{self.base}/readyz", timeout=2) as response,
            ):
                if response.status == 200:
                    return
            time.sleep(0.2)
        raise SystemExit(f"bench: node {self.name} did not become ready")

    def start_worker(self) -> None:
        log = (self.data_dir / "worker.log").open("wb")
        self.worker = subprocess.Popen(
            [str(harness.BIN / "groundswell"), "worker", "--interval", "0.2"],
            env=self.env,
            cwd=harness.ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self) -> None:
        """SIGKILL to everything the node runs, at once, as when its host is lost."""
        for process in (self.serve, self.worker):
            if process is not None and process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)

    def stop(self) -> None:
        for process in (self.serve, self.worker):
            if process is not None and process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        for process in (self.serve, self.worker):
            if process is not None:
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=5)


# --- PostgreSQL's CPU --------------------------------------------------------------


def _cpu_of(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_pids() -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() == "postgres":
                    found.append(int(entry.name))
    return found


class PostgresCpu:
    """CPU seconds of the backends serving our database (pg_stat_activity), and of
    every postgres process on the machine (other databases' work included)."""

    def __init__(self, url: str, database: str) -> None:
        import psycopg

        # No prepared statements: through PgBouncer in transaction mode they would fail.
        self.conn = psycopg.connect(url, autocommit=True, prepare_threshold=None)
        self.database = database

    def ours(self) -> dict[int, float]:
        rows = self.conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (self.database,),
        ).fetchall()
        return {pid: _cpu_of(pid) for (pid,) in rows}

    def everything(self) -> float:
        return sum(_cpu_of(pid) for pid in postgres_pids())

    def signatures(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM petitions_signature").fetchone()[0])

    def scalar(self, sql: str, *params: Any) -> Any:
        return self.conn.execute(sql, params).fetchone()[0]


@dataclass
class Throughput:
    nodes: int
    seconds: float
    signatures: int
    errors: int
    db_cpu_ours: float
    db_cpu_all: float

    @property
    def rate(self) -> float:
        return self.signatures / self.seconds

    def line(self) -> str:
        per = 1000 / max(1, self.signatures)
        return (
            f"| {self.nodes} | {self.rate:,.0f} | {self.db_cpu_ours * per:.2f} | "
            f"{self.db_cpu_all * per:.2f} | {self.db_cpu_ours / self.seconds:.2f} | {self.errors} |"
        )


def measure(nodes: list[Node], pg: PostgresCpu, args: argparse.Namespace) -> Throughput:
    async def run_all() -> list[loadgen.Result]:
        return await asyncio.gather(
            *(
                loadgen.closed_loop(
                    f"sign-{node.name}",
                    "127.0.0.1",
                    node.port,
                    sign.sign_step,
                    connections=max(1, args.connections // len(nodes)),
                    duration=args.duration,
                    warmup=args.warmup,
                    prepare=sign.sign_prepare,
                )
                for node in nodes
            )
        )

    # The measurement window is loadgen's (after its warm-up): sample PostgreSQL then.
    samples: dict[str, Any] = {}

    def sample(at: str) -> None:
        samples[at] = (time.monotonic(), pg.signatures(), pg.ours(), pg.everything())

    start_timer = threading.Timer(sign.READING_SECONDS + args.warmup, sample, ("start",))
    end_at = sign.READING_SECONDS + args.warmup + args.duration
    end_timer = threading.Timer(end_at, sample, ("end",))
    start_timer.start()
    end_timer.start()
    results = asyncio.run(run_all())
    end_timer.join()
    (t0, n0, ours0, all0), (t1, n1, ours1, all1) = samples["start"], samples["end"]
    ours = sum(cpu - ours0.get(pid, 0.0) for pid, cpu in ours1.items())
    errors = sum(r.errors for r in results)
    return Throughput(len(nodes), t1 - t0, n1 - n0, errors, ours, all1 - all0)


# --- Signers that note what was acknowledged ------------------------------------------


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


@dataclass
class Signer(threading.Thread):
    node: Node
    number: int
    stop: threading.Event
    acknowledged: list[str] = field(default_factory=list)
    unanswered: list[str] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        super().__init__(daemon=True)

    def __hash__(self) -> int:
        return id(self)

    def run(self) -> None:
        url = f"{self.node.base}{sign.PAGE}"
        opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(CookieJar()), _NoRedirects()
        )
        try:
            page = opener.open(url, timeout=10).read()
        except OSError:
            return
        token = loadgen.form_token(page)
        shown = re.search(rb'name="shown" value="([^"]+)"', page)
        time.sleep(sign.READING_SECONDS)
        i = 0
        while not self.stop.is_set():
            email = f"loss-{self.node.name}{self.number}-{i}@d{i % 997}.bench.example.org"
            i += 1
            form = {
                "csrfmiddlewaretoken": token or "",
                "first_name": "Bench",
                "last_name": "Signer",
                "email": email,
                "postal_code": "N1 9GU",
                "country": "GB",
            }
            if shown:
                form["shown"] = shown.group(1).decode()
            request = urllib.request.Request(
                url,
                data=urllib.parse.urlencode(form).encode(),
                headers={"Referer": url, "X-Forwarded-For": sign.crowd_address()},
            )
            try:
                status = opener.open(request, timeout=15).status
            except urllib.error.HTTPError as error:
                status = error.code
            except OSError:
                self.unanswered.append(email)
                return  # its node is gone: no answer, so no promise
            self.statuses[status] += 1
            if status == 303:
                self.acknowledged.append(email)


# --- The bench ----------------------------------------------------------------------


def make_nodes(site: harness.Site, sink_port: int) -> list[Node]:
    nodes = []
    for name in ("a", "b"):
        data_dir = Path(tempfile.mkdtemp(prefix=f"gs-node-{name}-"))
        port = harness.free_port()
        env = dict(
            site.env,
            GROUNDSWELL_DATA_DIR=str(data_dir),
            BASE_URL=f"http://127.0.0.1:{port}",
            TASKS_BACKEND="database",
            EMAIL_URL=f"smtp://127.0.0.1:{sink_port}",
            # The public count read afresh, to compare it with the rows at the end.
            COUNT_REFRESH_SECONDS="0",
            COUNT_CACHE_SECONDS="0",
        )
        nodes.append(Node(name, data_dir, port, env))
    return nodes


def node_loss(
    site: harness.Site, nodes: list[Node], pg: PostgresCpu, sink_log: Path, recipients: int
) -> list[str]:
    """Phase 3; the problems found (empty: the node loss held)."""
    a, b = nodes
    mail.bench_script(a.env, "setup-people", str(recipients))
    mailing_id = int(mail.bench_script(a.env, "new-mailing", str(a.data_dir / "m.eml")).strip())
    # The throughput runs' thank-you emails wait in the queue (no worker ran then):
    # not this test's business, and they would keep the workers from the mailing.
    pg.conn.execute(
        "DELETE FROM django_tasks_database_dbtaskresult WHERE status = 'READY'"
        " AND task_path LIKE %s",
        ("%send_thank_you%",),
    )
    mail.groundswell(a.env, "mailing", "send", str(mailing_id))
    # The signers of the throughput runs who ticked the box are on the list too.
    recipients = int(
        pg.scalar(
            "SELECT count(*) FROM mailings_mailingrecipient WHERE mailing_id = %s", mailing_id
        )
    )
    for node in nodes:
        node.start_worker()
    stop = threading.Event()
    signers = [Signer(node, n, stop) for node in nodes for n in range(3)]
    for signer in signers:
        signer.start()

    def sent() -> int:
        return int(
            pg.scalar(
                "SELECT count(*) FROM mailings_mailingrecipient WHERE mailing_id = %s"
                " AND state = 'sent'",
                mailing_id,
            )
        )

    deadline = time.monotonic() + 120
    while sent() < recipients // 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    at_kill = sent()
    b.kill()
    killed_at = time.monotonic()
    shutil.rmtree(b.data_dir, ignore_errors=True)
    print(f"node B killed with {at_kill:,} of {recipients:,} sent; its data directory deleted")
    time.sleep(3)  # node A keeps signing meanwhile
    stop.set()
    for signer in signers:
        signer.join(20)

    status = ""
    while time.monotonic() < killed_at + RECOVERY_BOUND:
        status = str(pg.scalar("SELECT status FROM mailings_mailing WHERE id = %s", mailing_id))
        if status == "sent":
            break
        time.sleep(1)
    finished_after = time.monotonic() - killed_at
    time.sleep(1)  # the sink's log is written before it answers: nothing is still to come

    problems = []
    acknowledged = {e for s in signers for e in s.acknowledged}
    statuses = sum((s.statuses for s in signers), Counter())
    rows = {
        email
        for (email,) in pg.conn.execute(
            "SELECT p.email FROM petitions_signature s JOIN members_person p"
            " ON p.id = s.person_id WHERE p.email LIKE 'loss-%%'"
        ).fetchall()
    }
    missing = acknowledged - rows
    total = pg.signatures()
    with urllib.request.urlopen(f"{a.base}/sign/{sign.SLUG}.json", timeout=10) as response:
        import json

        public = int(json.loads(response.read())["signature_count"])
    received = Counter(sink_log.read_text().split())
    states = dict(
        pg.conn.execute(
            "SELECT state, count(*) FROM mailings_mailingrecipient WHERE mailing_id = %s"
            " GROUP BY state",
            (mailing_id,),
        ).fetchall()
    )
    recipient_rows = pg.conn.execute(
        "SELECT email, state FROM mailings_mailingrecipient WHERE mailing_id = %s", (mailing_id,)
    ).fetchall()
    # The sink also gets the thank-you emails of this phase's signers, who are not on
    # the mailing's list: only the recipients' addresses are counted.
    twice = [email for email, _ in recipient_rows if received[email] > 1]
    sent_not_once = [e for e, state in recipient_rows if state == "sent" and received[e] != 1]
    unknown = [e for e, state in recipient_rows if state == "unknown"]

    print(
        f"signers: {len(acknowledged):,} acknowledged (303), "
        f"{sum(len(s.unanswered) for s in signers)} without an answer (node B's, at the kill); "
        f"answers {dict(statuses)}"
    )
    print(f"signatures in the database: {total:,}; public count on node A: {public:,}")
    print(f"recipients by state: {states}; received twice: {len(twice)}")
    print(f"mailing {status!r} {finished_after:.0f} s after the kill")
    if missing:
        problems.append(f"{len(missing)} acknowledged signatures missing")
    if public != total:
        problems.append(f"public count {public} != rows {total}")
    if twice or sent_not_once:
        problems.append(f"{len(twice)} received twice, {len(sent_not_once)} sent but not once")
    if set(states) - {"sent", "unknown"}:
        problems.append(f"recipients left unfinished: {states}")
    if len(unknown) > WINDOW_MAX:
        problems.append(f"{len(unknown)} unknown, more than one window ({WINDOW_MAX})")
    if status != "sent":
        problems.append(f"mailing not finished {RECOVERY_BOUND:.0f} s after the kill")
    return problems


WINDOW_MAX = 0  # set in main() from the code's own window


def main(argv: list[str] | None = None) -> int:
    global WINDOW_MAX
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=8, help="Seconds measured per run.")
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--recipients", type=int, default=4000)
    args = parser.parse_args(argv)
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("bench: set DATABASE_URL to a PostgreSQL server (several nodes need one)")
    print(harness.load_warning())
    with harness.site() as site, tempfile.TemporaryDirectory(prefix="gs-sink-") as sink_dir:
        WINDOW_MAX = int(
            harness._run(
                [
                    str(harness.BIN / "groundswell"),
                    "shell",
                    "-c",
                    "from groundswell.mailings.lanes import WINDOW; print(WINDOW)",
                ],
                site.env,
            ).split()[-1]
        )
        sink_log = Path(sink_dir) / "received.log"
        sink = subprocess.Popen(
            [sys.executable, str(mail.SINK), str(harness.free_port()), "--log", str(sink_log)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert sink.stdout is not None
        sink_port = int(sink.args[2])  # type: ignore[index]
        sink.stdout.readline()
        nodes = make_nodes(site, sink_port)
        pg = PostgresCpu(site.env["DATABASE_URL"], site.database_name)
        try:
            for node in nodes:
                node.start_serve()
            one = measure(nodes[:1], pg, args)
            two = measure(nodes, pg, args)
            print()
            print(
                "| nodes | signatures/s | DB CPU ms/signature (our backends) |"
                " (all postgres) | DB cores busy | errors |"
            )
            print("|---|---|---|---|---|---|")
            print(one.line())
            print(two.line())
            print()
            problems = node_loss(site, nodes, pg, sink_log, args.recipients)
        finally:
            for node in nodes:
                node.stop()
                errors = [
                    line
                    for log in node.data_dir.glob("*.log")
                    for line in log.read_text(errors="replace").splitlines()
                    if " ERROR " in line
                ]
                if errors:
                    print(f"node {node.name}: {len(errors)} ERROR lines, the first: {errors[0]}")
                shutil.rmtree(node.data_dir, ignore_errors=True)
            sink.terminate()
            sink.wait(timeout=10)
            pg.conn.close()
    print(harness.load_after())
    if problems:
        print("NODE LOSS: FAILED: " + "; ".join(problems))
        return 1
    print("NODE LOSS: held (every acknowledged signature kept, count exact, no message twice)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
