"""`make bench-mail`: send a mailing to a 100,000-recipient list through a local SMTP
sink that discards, with one and with two `groundswell worker` processes.

Prints messages per second (steady state, 5% to 95% of the list, and overall from the
send command to the last message), each worker's RSS at 10%, 50% and 90% of the
list (flat = memory does not grow with the list), the time to freeze the recipients
(the `mailing send` command, process start included), the CPU the workers and the
sink used per message over the steady part (less sensitive to other load than rates),
the load average before and after, and the ratio to a baseline in the same run: a
minimal loop handing the same pre-built message to the same sink over one reused
smtplib connection per process.

    .venv/bin/python bench/mail.py [--recipients N] [--workers 1,2]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/mail.py

Like bench/sign.py it runs everything in a fresh data dir (and, with DATABASE_URL,
a fresh gs_bench_* database), with production settings.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import smtplib
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness

HERE = Path(__file__).resolve()
SINK = HERE.parent / "smtp_sink.py"
LIST_SLUG = "updates"


# --- Run inside the bench environment (subprocess with Django) ---------------------------


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "groundswell.settings")
    import django

    django.setup()


def setup_people(count: int) -> None:
    """`count` people subscribed to the bench organisation's list, in bulk."""
    _django()
    from groundswell.members.models import Person, Subscription, SubscriptionStatus
    from groundswell.orgs.models import MailingList

    mailing_list = MailingList.objects.get(slug=LIST_SLUG)
    batch = 5000
    for start in range(0, count, batch):
        people = Person.objects.bulk_create(
            [
                Person(
                    email=f"reader{i}@bench.example.org",
                    email_normalised=f"reader{i}@bench.example.org",
                    first_name=f"Reader{i}",
                    country="GB",
                )
                for i in range(start, min(count, start + batch))
            ]
        )
        if any(p.pk is None for p in people):
            people = list(
                Person.objects.filter(
                    email_normalised__in=[p.email_normalised for p in people]
                ).order_by("pk")
            )
        Subscription.objects.bulk_create(
            [
                Subscription(
                    person=p, mailing_list=mailing_list, status=SubscriptionStatus.SUBSCRIBED
                )
                for p in people
            ]
        )


def new_mailing(message_file: str) -> None:
    """A draft mailing to the bench list; prints its id, writes one rendered message."""
    _django()
    from groundswell.mailings.models import Mailing, MailingRecipient
    from groundswell.members.models import Person
    from groundswell.orgs.models import MailingList
    from groundswell.petitions.models import Petition

    mailing_list = MailingList.objects.get(slug=LIST_SLUG)
    petition = Petition.objects.first()
    mailing = Mailing.objects.create(
        organisation=mailing_list.organisation,
        from_name="Bench Campaigns",
        from_email="hello@bench.example.org",
        subject="Keep the library open on Sundays, {{ first_name|default:'friend' }}",
        petition=petition,
        body=(
            'Dear {{ first_name|default:"friend" }},\n\n'
            "The council wants to close the central library on Sundays. It is the only "
            "warm, free place open to everyone in the centre of town.\n\n"
            "[Add your name]({{ petition_url }})\n\n"
            "Read [the budget papers](https://bench.example.org/budget) and "
            "[the survey](https://bench.example.org/survey).\n\n"
            "[Sign the petition]({{ petition_url }})\n"
        ),
        signoff_name="Sam Example",
        signoff_title="Campaigner",
    )
    mailing.include_lists.set([mailing_list])
    from groundswell.mailings.rendering import prepare_mailing

    person = Person.objects.order_by("pk").first()
    assert person is not None
    sample = MailingRecipient(mailing=mailing, person=person, email=person.email, variant="A")
    sample.pk = 0
    Path(message_file).write_bytes(prepare_mailing(mailing).message_bytes(sample))
    print(mailing.pk)


# --- The bench ------------------------------------------------------------------------


def groundswell(env: dict[str, str], *args: str) -> str:
    return harness._run([str(harness.BIN / "groundswell"), *args], env)


def bench_script(env: dict[str, str], *args: str) -> str:
    return harness._run([sys.executable, str(HERE), *args], env)


class Counter:
    """Reads the sent count straight from the database (the bench does not load Django)."""

    def __init__(self, site: harness.Site) -> None:
        self.site = site
        self.conn: Any
        if site.database == "sqlite":
            self.conn = sqlite3.connect(site.database_name, timeout=30)
        else:
            import psycopg

            self.conn = psycopg.connect(site.env["DATABASE_URL"], autocommit=True)

    def sent(self, mailing_id: int) -> int:
        mark = "?" if self.site.database == "sqlite" else "%s"
        cursor = self.conn.execute(
            "SELECT count(*) FROM mailings_mailingrecipient "
            f"WHERE mailing_id = {mark} AND state = 'sent'",
            (mailing_id,),
        )
        return int(cursor.fetchone()[0])

    def status(self, mailing_id: int) -> str:
        mark = "?" if self.site.database == "sqlite" else "%s"
        cursor = self.conn.execute(
            f"SELECT status FROM mailings_mailing WHERE id = {mark}",
            (mailing_id,),
        )
        return str(cursor.fetchone()[0])


def cpu_seconds(pid: int) -> float:
    """User + system CPU the process has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> tuple[float, float]:
    """Resident MB: all of it, and the process's own (anonymous) part.

    The rest is file pages shared with the page cache, on SQLite mostly the database file
    mapped by `PRAGMA mmap_size` (128 MB at most): they come and go with what was read,
    not with what the process holds.
    """
    found = {"VmRSS:": 0.0, "RssAnon:": 0.0}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            name = line.split(":", 1)[0] + ":"
            if name in found:
                found[name] = int(line.split()[1]) / 1024
    except OSError:
        pass
    return found["VmRSS:"], found["RssAnon:"]


@contextlib.contextmanager
def sink() -> Iterator[tuple[int, int]]:
    """The sink's port and pid."""
    port = harness.free_port()
    proc = subprocess.Popen(
        [sys.executable, str(SINK), str(port)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    proc.stdout.readline()
    try:
        yield port, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def run_send(
    site: harness.Site, counter: Counter, port: int, sink_pid: int, workers: int, total: int
) -> dict[str, Any]:
    env = dict(site.env, EMAIL_URL=f"smtp://127.0.0.1:{port}", TASKS_BACKEND="database")
    message_file = str(site.data_dir / "sample.eml")
    mailing_id = int(bench_script(env, "new-mailing", message_file).strip())
    started = time.monotonic()
    groundswell(env, "mailing", "send", str(mailing_id))
    frozen = time.monotonic() - started
    procs = [
        subprocess.Popen(
            [str(harness.BIN / "groundswell"), "worker", "--interval", "0.2"],
            env=env,
            cwd=harness.ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]
    marks: dict[float, float] = {}
    rss: dict[str, list[tuple[float, float]]] = {"10%": [], "50%": [], "90%": []}
    # CPU seconds of the workers together and of the sink, at 5% and at 95%.
    cpu: dict[float, tuple[float, float]] = {}
    load_before = os.getloadavg()[0]
    try:
        deadline = time.monotonic() + 3600
        while time.monotonic() < deadline:
            sent = counter.sent(mailing_id)
            now = time.monotonic()
            for fraction in (0.05, 0.10, 0.50, 0.90, 0.95):
                if fraction not in marks and sent >= fraction * total:
                    marks[fraction] = now
                    if fraction in (0.05, 0.95):
                        cpu[fraction] = (
                            sum(cpu_seconds(p.pid) for p in procs),
                            cpu_seconds(sink_pid),
                        )
                    label = f"{int(fraction * 100)}%"
                    if label in rss:
                        rss[label] = [rss_mb(p.pid) for p in procs]
            if sent >= total:
                break
            time.sleep(0.25)
        done = time.monotonic()
        load_after = os.getloadavg()[0]
        # The last lane records its answers, then marks the mailing sent.
        status = counter.status(mailing_id)
        while status != "sent" and time.monotonic() < done + 30:
            time.sleep(0.25)
            status = counter.status(mailing_id)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    steady = 0.9 * total / max(1e-9, marks[0.95] - marks[0.05])
    steady_messages = 0.9 * total
    worker_cpu = (cpu[0.95][0] - cpu[0.05][0]) / steady_messages * 1000
    sink_cpu = (cpu[0.95][1] - cpu[0.05][1]) / steady_messages * 1000
    return {
        "workers": workers,
        "freeze_s": frozen,
        "steady": steady,
        "overall": total / (done - started),
        "rss": rss,
        "worker_cpu_ms": worker_cpu,
        "sink_cpu_ms": sink_cpu,
        "load": (load_before, load_after),
        "status": status,
        "message_bytes": len(Path(message_file).read_bytes()),
        "message_file": message_file,
    }


def _baseline_loop(args: tuple[int, str, int]) -> float:
    port, message_file, count = args
    message = Path(message_file).read_bytes()
    conn = smtplib.SMTP("127.0.0.1", port)
    started = time.monotonic()
    for i in range(count):
        conn.sendmail("hello@bench.example.org", [f"reader{i}@bench.example.org"], message)
    elapsed = time.monotonic() - started
    conn.quit()
    return count / elapsed


def baseline(port: int, message_file: str, processes: int, count: int) -> float:
    with multiprocessing.Pool(processes) as pool:
        rates = pool.map(_baseline_loop, [(port, message_file, count)] * processes)
    return sum(rates)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--workers", default="1,2", help="worker counts to run, e.g. 1,2")
    parser.add_argument("--baseline-messages", type=int, default=20_000)
    args = parser.parse_args()
    worker_counts = [int(w) for w in args.workers.split(",")]

    print(f"# bench-mail: {args.recipients:,} recipients, workers {worker_counts}")
    print(f"# CPU calibration: {harness.cpu_calibration():.1f} µs; {harness.load_warning()}")
    with harness.site() as site:
        print(f"# database: {site.database}")
        t = time.monotonic()
        bench_script(site.env, "setup-people", str(args.recipients))
        print(
            f"# {args.recipients:,} people and subscriptions made in {time.monotonic() - t:.1f} s"
        )
        counter = Counter(site)
        results = []
        with sink() as (port, sink_pid):
            for workers in worker_counts:
                result = run_send(site, counter, port, sink_pid, workers, args.recipients)
                result["baseline"] = baseline(
                    port, result["message_file"], workers, args.baseline_messages
                )
                results.append(result)
        print()
        print(
            "| workers | msgs/s steady | msgs/s overall | baseline smtplib loop msgs/s | "
            "ratio | freeze s | RSS MB (own part) per worker at 10% / 50% / 90% | "
            "CPU ms/msg workers + sink | load before / after |"
        )
        print("|---|---|---|---|---|---|---|---|---|")
        for r in results:
            rss = " / ".join(
                ", ".join(f"{total:.0f} ({own:.0f})" for total, own in r["rss"][k])
                for k in ("10%", "50%", "90%")
            )
            print(
                f"| {r['workers']} | {r['steady']:,.0f} | {r['overall']:,.0f} | "
                f"{r['baseline']:,.0f} | {r['steady'] / r['baseline']:.2f} | "
                f"{r['freeze_s']:.1f} | {rss} | "
                f"{r['worker_cpu_ms']:.2f} + {r['sink_cpu_ms']:.2f} | "
                f"{r['load'][0]:.1f} / {r['load'][1]:.1f} |"
            )
        print()
        print(
            f"# message size: {results[0]['message_bytes']:,} bytes; statuses: "
            f"{[r['status'] for r in results]}"
        )
        for r in results:
            # Linear in the list: the freeze is a batch per commit, the send a window per
            # commit, and neither's cost per row grows with the table (see docs).
            freeze_million = r["freeze_s"] * 1_000_000 / args.recipients
            print(
                f"# 1,000,000-recipient projection with {r['workers']} worker(s): "
                f"freeze ~{freeze_million / 60:.1f} min, send ~{1_000_000 / r['steady'] / 60:.1f} "
                "min at the steady rate"
            )
        two = [r for r in results if r["workers"] == 2]
        if two:
            verdict = "PASS" if two[0]["steady"] >= 1000 else "MISS"
            print(f"# goal >= 1,000 msgs/s with two workers: {verdict} ({two[0]['steady']:,.0f})")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "setup-people":
        setup_people(int(sys.argv[2]))
    elif len(sys.argv) > 1 and sys.argv[1] == "new-mailing":
        new_mailing(sys.argv[2])
    else:
        sys.exit(main())
