"""Benchmark the petition page, its JSON and signing against baselines on the same server.

    make bench                                   # SQLite in a fresh temp data dir
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres make bench
    .venv/bin/python bench/sign.py --smoke       # 1 s per scenario, checks the harness
    .venv/bin/python bench/sign.py --compare-clients
    .venv/bin/python bench/sign.py --help

It starts `groundswell serve` (production settings, DEBUG off, bench endpoints on)
on a free port, drives it from this process with the asyncio client in loadgen.py,
and prints requests/s, p50/p99 latency and errors for each scenario, with ratios to
two baselines measured in the same run: `ok` (a view returning a constant through
the full middleware stack) and `insert` (one row committed in its own transaction
into the same database). See docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import harness
import loadgen
from loadgen import Connection, Result
from setup_data import ORG_SLUG, SLUG, WAVE_FILE

PAGE = f"/sign/{SLUG}/"
JSON = f"/sign/{SLUG}.json"

# Goals from issue 4, item 7 (2-core machine).
GOAL_SIGN = {"sqlite": 1000, "postgresql": 600}
GOAL_P99_AT_RATE_MS = 100
GOAL_PAGE = 2000
GOAL_JSON = 5000

_serial = itertools.count()


def _email(worker: int) -> str:
    n = next(_serial)
    # Many domains and (crowd_address) many networks, as a real crowd has: the rate
    # limits are checked for each signature, and none is over.
    return f"signer-{os.getpid()}-{worker}-{n}@d{n % 1000}.bench.example.org"


_addresses = itertools.count(1)


def crowd_address() -> str:
    """An address of its own for each signature (the server trusts the bench's
    X-Forwarded-For, harness.py), from 10.0.0.0/8."""
    n = next(_addresses) % (1 << 24)
    return f"10.{n >> 16}.{(n >> 8) & 255}.{n & 255}"


# --- Steps: one request each, returning the status --------------------------------


def get_step(path: str) -> loadgen.Step:
    async def step(conn: Connection, worker: int) -> int:
        raw = conn.build("GET", path)
        return (await conn.send(raw)).status

    return step


async def insert_step(conn: Connection, worker: int) -> int:
    body = b"email=" + _email(worker).replace("@", "%40").encode()
    raw = conn.build("POST", "/bench/insert/", body, b"application/x-www-form-urlencoded")
    return (await conn.send(raw)).status


@dataclass
class SignForm:
    """The CSRF cookie and form token one connection got from GETting the page, and
    the page's signed "shown at" stamp (petitions/defences.py)."""

    token: str
    shown: str


_forms: dict[int, SignForm] = {}
_SHOWN_RE = re.compile(rb'name="shown" value="([^"]+)"')
# The sign form's minimum time (SIGN_MIN_SECONDS, default 3 s): the bench reads the
# page like a person, then signs, so every signature passes the real check.
READING_SECONDS = 3.2


async def sign_prepare(conn: Connection, worker: int) -> None:
    response = await conn.request("GET", PAGE)
    token = loadgen.form_token(response.body)
    shown = _SHOWN_RE.search(response.body)
    if response.status != 200 or token is None or "csrftoken" not in conn.cookies:
        raise SystemExit(
            f"bench: GET {PAGE} gave {response.status} without a CSRF form token and "
            "csrftoken cookie; cannot sign."
        )
    if shown is None:
        raise SystemExit(f"bench: GET {PAGE} gave no shown-at stamp; cannot sign.")
    _forms[id(conn)] = SignForm(token, shown.group(1).decode())
    await asyncio.sleep(READING_SECONDS)


async def sign_step(conn: Connection, worker: int) -> int:
    form = {
        "csrfmiddlewaretoken": _forms[id(conn)].token,
        "shown": _forms[id(conn)].shown,
        "first_name": "Bench",
        "last_name": f"Signer{worker}",
        "email": _email(worker),
        "postal_code": "N1 9GU",
        "country": "GB",
        "show_name": "on",
        f"consent_{ORG_SLUG}": "on",
    }
    from urllib.parse import urlencode

    raw = conn.build(
        "POST",
        PAGE,
        urlencode(form).encode(),
        b"application/x-www-form-urlencoded",
        forwarded_for=crowd_address(),
    )
    return (await conn.send(raw)).status


# --- The click wave: members following their links (setup_data.setup_wave) -----------


@dataclass
class Wave:
    mailing: int
    tokens: list[str]


_wave: Wave | None = None
# Members taken so far this run, by either client: the next one starts after them.
_members_used = 0


# The same members for wrk (wrk_request.lua): one token per line.
WAVE_TOKENS_FILE = "bench-members.txt"
_wave_tokens_file: Path | None = None


def load_wave(data_dir: Path) -> None:
    global _wave, _wave_tokens_file
    found = data_dir / WAVE_FILE
    if found.exists():
        data = json.loads(found.read_text())
        _wave = Wave(data["mailing"], data["tokens"])
        _wave_tokens_file = data_dir / WAVE_TOKENS_FILE
        _wave_tokens_file.write_text("\n".join(_wave.tokens) + "\n")


def _member() -> str:
    """The next member's token: each request is a different person, as in a wave."""
    global _members_used
    if _wave is None:
        raise SystemExit("bench: no wave members in the site (setup_data.setup_wave)")
    _members_used += 1
    return _wave.tokens[(_members_used - 1) % len(_wave.tokens)]


async def page_member_step(conn: Connection, worker: int) -> int:
    raw = conn.build("GET", f"{PAGE}?akid={_member()}&t=1")
    return (await conn.send(raw)).status


async def go_step(conn: Connection, worker: int) -> int:
    assert _wave is not None
    raw = conn.build("GET", f"/go/{_wave.mailing}/2/?akid={_member()}")
    return (await conn.send(raw)).status


async def sign_member_step(conn: Connection, worker: int) -> int:
    """One click on the recognised member's form: the token and the CSRF pair. No
    consent box: the member is on the list the mailing went to, so their form has none
    (setup_data.setup_wave)."""
    from urllib.parse import urlencode

    form = {"csrfmiddlewaretoken": _forms[id(conn)].token, "akid": _member(), "t": "1"}
    raw = conn.build(
        "POST",
        PAGE,
        urlencode(form).encode(),
        b"application/x-www-form-urlencoded",
        forwarded_for=crowd_address(),
    )
    return (await conn.send(raw)).status


# A realistic minute after a send: most requests are members going through their
# links (the redirect, then their page, then the one-click signature), while the
# petition's anonymous page and its JSON are read beside them.
_wave_steps: dict[int, itertools.cycle] = {}
WAVE_MIX = [go_step, page_member_step, sign_member_step]


async def mixed_wave_step(conn: Connection, worker: int) -> int:
    if worker % 5 == 3:
        return await get_step(PAGE)(conn, worker)
    if worker % 5 == 4:
        return await get_step(JSON)(conn, worker)
    steps = _wave_steps.setdefault(id(conn), itertools.cycle(WAVE_MIX))
    return await next(steps)(conn, worker)


# --- Running scenarios --------------------------------------------------------------


@dataclass
class Scenario:
    name: str
    what: str
    run: Callable[[int, argparse.Namespace], Any]  # port, args -> coroutine of Result
    # For wrk: (method, path, body template with {email}, whether it needs a CSRF pair).
    wrk: tuple[str, str, str, bool] | None = None


def closed(name: str, step: loadgen.Step, prepare: loadgen.Prepare | None = None) -> Callable:
    def run(port: int, args: argparse.Namespace) -> Any:
        extra = {"prepare": prepare} if prepare else {}
        return loadgen.closed_loop(
            name,
            "127.0.0.1",
            port,
            step,
            connections=args.connections,
            duration=args.duration,
            warmup=args.warmup,
            **extra,
        )

    return run


def at_rate(name: str, step: loadgen.Step, prepare: loadgen.Prepare | None = None) -> Callable:
    def run(port: int, args: argparse.Namespace) -> Any:
        extra = {"prepare": prepare} if prepare else {}
        return loadgen.fixed_rate(
            name,
            "127.0.0.1",
            port,
            step,
            rate=args.rate,
            connections=args.connections,
            duration=args.duration,
            warmup=args.warmup,
            **extra,
        )

    return run


SIGN_BODY = (
    "csrfmiddlewaretoken={token}&shown={shown}&first_name=Bench&last_name=Signer&email={email}"
    f"&postal_code=N1+9GU&country=GB&show_name=on&consent_{ORG_SLUG}=on"
)
SIGN_MEMBER_BODY = "csrfmiddlewaretoken={token}&akid={akid}&t=1"
SCENARIOS = {
    s.name: s
    for s in [
        Scenario(
            "ok",
            "baseline: GET a constant through all middleware",
            closed("ok", get_step("/bench/ok/")),
            ("GET", "/bench/ok/", "", False),
        ),
        Scenario(
            "insert",
            "baseline: POST one committed row",
            closed("insert", insert_step),
            ("POST", "/bench/insert/", "email={email}", False),
        ),
        Scenario(
            "admin-login",
            "GET /admin/login/ (template + CSRF, a stand-in page)",
            closed("admin-login", get_step("/admin/login/")),
            ("GET", "/admin/login/", "", False),
        ),
        Scenario("page", f"GET {PAGE}", closed("page", get_step(PAGE)), ("GET", PAGE, "", False)),
        Scenario("json", f"GET {JSON}", closed("json", get_step(JSON)), ("GET", JSON, "", False)),
        Scenario(
            "sign",
            f"POST {PAGE}, distinct emails, CSRF",
            closed("sign", sign_step, sign_prepare),
            ("POST", PAGE, SIGN_BODY, True),
        ),
        Scenario(
            "page-member",
            f"GET {PAGE}?akid=…, a different recognised member each time",
            closed("page-member", page_member_step),
            ("GET", f"{PAGE}?akid={{akid}}&t=1", "", False),
        ),
        Scenario(
            "sign-member",
            f"POST {PAGE} with akid: one-click signing, distinct members, CSRF",
            closed("sign-member", sign_member_step, sign_prepare),
            ("POST", PAGE, SIGN_MEMBER_BODY, True),
        ),
        Scenario(
            "go",
            "GET /go/<mailing>/2/?akid=…, distinct recipients (tracked redirect)",
            closed("go", go_step),
            ("GET", "/go/{mailing}/2/?akid={akid}", "", False),
        ),
        Scenario(
            "mixed-wave",
            "at the fixed rate: go → member page → one-click sign, with page and JSON",
            at_rate("mixed-wave", mixed_wave_step, sign_prepare),
        ),
        Scenario("insert@rate", "baseline at the fixed rate", at_rate("insert@rate", insert_step)),
        Scenario(
            "sign@rate",
            "POST sign at the fixed rate",
            at_rate("sign@rate", sign_step, sign_prepare),
        ),
    ]
}
NEEDS_PAGE = {"page", "sign", "sign@rate", "page-member", "sign-member", "mixed-wave"}
# The click wave (issue 21): `make bench-wave`, or --only with these.
WAVE_ORDER = ["ok", "page", "sign", "page-member", "sign-member", "go", "mixed-wave"]
# Everything (`make bench`): the goals of issue 4 and of issue 21 in one run.
DEFAULT_ORDER = [
    "ok",
    "insert",
    "admin-login",
    "page",
    "json",
    "sign",
    "page-member",
    "sign-member",
    "go",
    "mixed-wave",
    "insert@rate",
    "sign@rate",
]
GOAL_WAVE_P99_MS = 100


def probe(port: int, path: str) -> int:
    async def go() -> int:
        conn = Connection("127.0.0.1", port)
        try:
            return (await conn.request("GET", path)).status
        finally:
            conn.close()

    return asyncio.run(go())


def run_scenarios(
    site: harness.Site, srv: harness.Server, names: list[str], args: argparse.Namespace
) -> tuple[dict[str, Result], dict[str, str]]:
    results: dict[str, Result] = {}
    skipped: dict[str, str] = {}
    page_status = probe(srv.port, PAGE) if NEEDS_PAGE & set(names) else 200
    json_status = probe(srv.port, JSON) if "json" in names else 200
    for name in names:
        if name in NEEDS_PAGE and page_status != 200:
            skipped[name] = f"GET {PAGE} answered {page_status}: the petition page is not there yet"
            continue
        if name == "json" and json_status != 200:
            skipped[name] = f"GET {JSON} answered {json_status}: the JSON is not there yet"
            continue
        print(f"  {name}: {SCENARIOS[name].what} …", end="", flush=True)
        scenario = SCENARIOS[name]
        # A settled server, with statistics as a running site has them, not as of the
        # empty tables.
        srv.wait_until_idle()
        harness.refresh_statistics(site)
        cpu0, t0, ticks0 = srv.cpu_seconds(), time.monotonic(), harness.cpu_ticks()
        # Only signing passes through the signature writer.
        writer0 = srv.writer_schedstat() if name.startswith("sign") else None
        if args.client == "wrk" and scenario.wrk is not None:
            result = wrk_run(name, srv.port, scenario.wrk, args)
        else:
            result = asyncio.run(scenario.run(srv.port, args))
        # Server CPU over warm-up + run; as a share of wall time it shows how busy it was.
        server_cpu = (srv.cpu_seconds() - cpu0) / (time.monotonic() - t0)
        # Near zero: the run used the whole machine; well above it, the server waited on
        # something other than the CPU.
        idle = harness.idle_cores(ticks0, harness.cpu_ticks())
        client = "wrk" if result.fixed_percentiles else "asyncio"
        result.note = f"{client}; server CPU {server_cpu:.2f} cores; machine idle {idle:.2f}"
        writer1 = srv.writer_schedstat() if writer0 else None
        if writer0 and writer1:
            # The writer is the one thread every signature passes through: time it
            # spent runnable without a CPU is time every waiting signer lost.
            wall_ns = (time.monotonic() - t0) * 1e9
            on_cpu, waiting = ((b - a) / wall_ns for a, b in zip(writer0, writer1, strict=True))
            result.note += f"; writer on a CPU {on_cpu:.2f}, waiting for one {waiting:.2f}"
        results[name] = result
        print(f" {result.rate:,.0f}/s, p99 {result.percentile(99) * 1000:.1f} ms")
    for name, why in skipped.items():
        print(f"  {name}: skipped — {why}")
    return results, skipped


def ratio(a: Result | None, b: Result | None) -> str:
    if a is None or b is None or not b.rate:
        return "—"
    return f"{a.rate / b.rate:.2f}"


def print_table(results: dict[str, Result], title: str) -> None:
    ok, ins = results.get("ok"), results.get("insert")
    page = results.get("page")
    head = ["scenario", "req/s", "p50 ms", "p99 ms", "errors", "÷ ok", "÷ insert", "÷ page"]
    head.append("client CPU")
    head.append("notes")
    rows = []
    for name, r in results.items():
        rate = f"{r.rate:,.0f}" + (f" (of {r.target_rate:.0f})" if r.target_rate else "")
        rows.append(
            [
                name,
                rate,
                f"{r.percentile(50) * 1000:.1f}",
                f"{r.percentile(99) * 1000:.1f}",
                str(r.errors),
                ratio(r, ok) if not r.target_rate else "—",
                ratio(r, ins) if not r.target_rate else "—",
                ratio(r, page) if not r.target_rate else "—",
                f"{r.client_cpu / r.duration:.2f}",
                r.note,
            ]
        )
    print(f"\n{title}\n")
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join("---" for _ in head) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    for name, r in results.items():
        unexpected = {s: n for s, n in r.statuses.items() if not 200 <= s < 400}
        if unexpected or r.exceptions:
            print(f"  {name}: statuses {dict(r.statuses)}, exceptions {dict(r.exceptions)}")


def check_goals(results: dict[str, Result], database: str, skipped: dict[str, str]) -> list[str]:
    lines = []

    def line(name: str, passed: bool, text: str) -> None:
        lines.append(f"  {'PASS' if passed else 'MISS'}  {name}: {text}")

    if (r := results.get("sign")) is not None:
        goal = GOAL_SIGN[database]
        text = f"{r.rate:,.0f}/s, {r.errors} errors (goal ≥ {goal}/s, 0 errors)"
        line("sign", r.rate >= goal and r.errors == 0, text)
    if (r := results.get("sign@rate")) is not None:
        p99 = r.percentile(99) * 1000
        text = f"p99 {p99:.1f} ms at {r.target_rate:.0f}/s, {r.errors} errors"
        text += f" (goal < {GOAL_P99_AT_RATE_MS} ms)"
        line("sign@rate", p99 < GOAL_P99_AT_RATE_MS and r.errors == 0, text)
    for name, goal in (("page", GOAL_PAGE), ("json", GOAL_JSON)):
        if (r := results.get(name)) is not None:
            text = f"{r.rate:,.0f}/s, {r.errors} errors (goal ≥ {goal}/s)"
            line(name, r.rate >= goal and r.errors == 0, text)
    ok, page, sign = results.get("ok"), results.get("page"), results.get("sign")
    for name, base, share in (
        ("page-member", page, 0.5),
        ("go", ok, 0.8),
        ("sign-member", sign, 1),
    ):
        if (r := results.get(name)) is not None and base is not None and base.rate:
            text = f"{r.rate / base.rate:.2f} x {base.name}, {r.errors} errors (goal ≥ {share})"
            line(name, r.rate >= share * base.rate and r.errors == 0, text)
    if (r := results.get("mixed-wave")) is not None:
        p99 = r.percentile(99) * 1000
        text = f"p99 {p99:.1f} ms at {r.target_rate:.0f}/s, {r.errors} errors"
        text += f" (goal < {GOAL_WAVE_P99_MS} ms, 0 errors)"
        line("mixed-wave", p99 < GOAL_WAVE_P99_MS and r.errors == 0, text)
    for name in ("sign", "sign@rate", "page", "json"):
        if name in skipped:
            lines.append(f"  SKIP  {name}: {skipped[name]}")
    return lines


# --- Comparing load generators ------------------------------------------------------


async def _httpx_closed_loop(port: int, path: str, args: argparse.Namespace) -> Result:
    import httpx

    result = Result("ok (httpx)", args.duration)
    n = args.connections
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits) as client:
        loop = asyncio.get_running_loop()
        warm_end = loop.time() + args.warmup
        end = warm_end + args.duration

        async def worker() -> None:
            while (now := loop.time()) < end:
                t0 = time.perf_counter()
                try:
                    status = (await client.get(path)).status_code
                except httpx.HTTPError as error:
                    result.exceptions[type(error).__name__] += 1
                    continue
                if now >= warm_end:
                    result.latencies.append(time.perf_counter() - t0)
                    result.statuses[status] += 1

        async def meter() -> None:
            await asyncio.sleep(args.warmup)
            cpu0 = time.process_time()
            await asyncio.sleep(args.duration)
            result.client_cpu = time.process_time() - cpu0

        await asyncio.gather(meter(), *(worker() for _ in range(args.connections)))
    return result


WRK_SCRIPT = Path(__file__).resolve().parent / "wrk_request.lua"


def _csrf_pair(port: int) -> tuple[str, str, str]:
    """The CSRF cookie and token, and the page's shown-at stamp (old enough to sign)."""

    async def go() -> tuple[str, str, str]:
        conn = Connection("127.0.0.1", port)
        try:
            await sign_prepare(conn, 0)
            form = _forms[id(conn)]
            return conn.cookies["csrftoken"], form.token, form.shown
        finally:
            conn.close()

    return asyncio.run(go())


def _wrk_once(
    port: int, spec: tuple[str, str, str, bool], seconds: float, args: argparse.Namespace
) -> tuple[str, float]:
    global _members_used
    method, path, body, needs_csrf = spec
    if "{mailing}" in path:
        assert _wave is not None
        path = path.replace("{mailing}", str(_wave.mailing))
    env = dict(os.environ, BENCH_METHOD=method, BENCH_PATH=path, BENCH_BODY=body)
    env["BENCH_PREFIX"] = f"wrk{os.getpid()}x{next(_serial)}"
    members = "{akid}" in path or "{akid}" in body
    if members:
        if _wave_tokens_file is None:
            raise SystemExit("bench: no wave members in the site (setup_data.setup_wave)")
        env["BENCH_TOKENS"] = str(_wave_tokens_file)
        env["BENCH_OFFSET"] = str(_members_used)
    if needs_csrf:
        cookie, token, shown = _csrf_pair(port)
        env["BENCH_COOKIE"] = f"csrftoken={cookie}"
        env["BENCH_BODY"] = body.replace("{token}", token).replace("{shown}", shown)
    cmd = ["wrk", "-t1", f"-c{args.connections}", f"-d{max(1, round(seconds))}s", "--latency"]
    cmd += ["--timeout", "10s", "-s", str(WRK_SCRIPT), f"http://127.0.0.1:{port}"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=seconds + 60)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0:
        raise SystemExit(f"bench: wrk failed: {out.stderr or out.stdout}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if members:
        # The next run goes on from the next member: each signs at most once.
        made = re.search(r"(\d+) requests in", out.stdout)
        _members_used += int(made.group(1)) if made else 0
    return out.stdout, cpu


def wrk_run(
    name: str, port: int, spec: tuple[str, str, str, bool], args: argparse.Namespace
) -> Result:
    """Closed loop like loadgen.closed_loop, but by wrk: it costs the server far less CPU."""
    if args.warmup >= 0.5:
        _wrk_once(port, spec, args.warmup, args)
    out, cpu = _wrk_once(port, spec, args.duration, args)
    m = re.search(r"(\d+) requests in ([\d.]+)(m?s)", out)
    if not m:
        raise SystemExit(f"bench: cannot read wrk's output:\n{out}")
    total = int(m.group(1))
    seconds = float(m.group(2)) / (1000 if m.group(3) == "ms" else 1)
    result = Result(name, seconds, client_cpu=cpu)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    non2xx = int(bad.group(1)) if bad else 0
    result.statuses[200] = total - non2xx
    if non2xx:
        result.exceptions["non-2xx/3xx"] = non2xx
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if sock:
        for label, value in zip(
            ("connect", "read", "write", "timeout"), sock.groups(), strict=True
        ):
            if int(value):
                result.exceptions[f"socket {label}"] = int(value)
    for label, p in (("50%", 50), ("99%", 99)):
        lm = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if lm:
            scale = {"us": 1e6, "ms": 1e3, "s": 1}[lm.group(2)]
            result.fixed_percentiles[p] = float(lm.group(1)) / scale
    result.latencies = [0.0] * total  # counted only; percentiles come from wrk
    return result


def compare_clients(srv: harness.Server, args: argparse.Namespace) -> dict[str, Result]:
    results = {}
    wrk_spec = SCENARIOS["ok"].wrk
    assert wrk_spec is not None
    has_wrk = shutil.which("wrk") is not None
    for name, run in [
        ("ok (asyncio raw)", lambda: asyncio.run(SCENARIOS["ok"].run(srv.port, args))),
        ("ok (httpx)", lambda: asyncio.run(_httpx_closed_loop(srv.port, "/bench/ok/", args))),
        ("ok (wrk)", lambda: wrk_run("ok", srv.port, wrk_spec, args) if has_wrk else None),
    ]:
        cpu0, t0, ticks0 = srv.cpu_seconds(), time.monotonic(), harness.cpu_ticks()
        result = run()
        if result is None:
            print(f"  {name}: skipped, wrk is not installed (apt-get install wrk)")
            continue
        result.name = name
        server_cpu = (srv.cpu_seconds() - cpu0) / (time.monotonic() - t0)
        idle = harness.idle_cores(ticks0, harness.cpu_ticks())
        result.note = f"server CPU {server_cpu:.2f} cores; machine idle {idle:.2f}"
        results[name] = result
        print(f"  {name}: {result.rate:,.0f}/s")
    return results


# --- Main -----------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10, help="Seconds measured per scenario.")
    parser.add_argument("--warmup", type=float, default=2, help="Seconds before measuring.")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rate", type=float, default=500, help="Requests/s in the @rate modes.")
    servers = ["granian", "gunicorn-sync", "gunicorn-gthread"]
    parser.add_argument("--server", default="granian", choices=servers)
    parser.add_argument(
        "--workers", type=int, default=0, help="0: the server's default (cores + 1 for granian)."
    )
    parser.add_argument("--threads", type=int, default=0, help="0: the server's default.")
    parser.add_argument(
        "--client",
        default="auto",
        choices=["auto", "wrk", "asyncio"],
        help="Closed-loop load generator; auto: wrk when installed. @rate modes use asyncio.",
    )
    parser.add_argument("--only", help=f"Comma-separated scenarios, from: {', '.join(SCENARIOS)}.")
    parser.add_argument("--smoke", action="store_true", help="1 s per scenario, to check.")
    parser.add_argument(
        "--wave", action="store_true", help="The click wave after a send (issue 21) instead."
    )
    parser.add_argument(
        "--compare-clients", action="store_true", help="Compare load generators on `ok`."
    )
    parser.add_argument("--json", type=Path, help="Also write the results here.")
    parser.add_argument("--keep", action="store_true", help="Keep the temp data dir.")
    args = parser.parse_args(argv)
    if args.smoke:
        args.duration, args.warmup = 1.0, 0.3
    if args.client == "auto":
        args.client = "wrk" if shutil.which("wrk") else "asyncio"
    elif args.client == "wrk" and not shutil.which("wrk"):
        raise SystemExit("bench: wrk is not installed (apt-get install wrk)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    names = args.only.split(",") if args.only else (WAVE_ORDER if args.wave else DEFAULT_ORDER)
    for name in names:
        if name not in SCENARIOS:
            raise SystemExit(f"bench: no scenario {name!r}; choose from {', '.join(SCENARIOS)}")
    print(f"Before: {harness.load_warning()}")
    with harness.site(keep=args.keep) as site:
        load_wave(site.data_dir)
        with harness.server(site, args.server, args.workers, args.threads) as srv:
            if args.client == "asyncio" and shutil.which("wrk") is None:
                print(
                    "wrk is not installed: using the asyncio client, which takes more CPU "
                    "from the server (apt-get install wrk; see docs/performance.md)."
                )
            print(
                f"Groundswell bench: {srv.description}; {site.database}; {args.client}; "
                f"{args.connections} connections; {args.duration:g} s per scenario "
                f"after {args.warmup:g} s warm-up; {os.cpu_count()} CPUs; data in {site.data_dir}"
            )
            print(f"CPU calibration: sum(range(1000)) takes {harness.cpu_calibration():.1f} µs")
            if args.compare_clients:
                results = compare_clients(srv, args)
                print_table(results, "Load generators on the constant view")
                skipped: dict[str, str] = {}
                goals: list[str] = []
            else:
                results, skipped = run_scenarios(site, srv, names, args)
                print_table(results, f"Results ({site.database}, {srv.description})")
                goals = check_goals(results, site.database, skipped)
                if goals:
                    print("\nGoals (issue 4 item 7, issue 21):")
                    print("\n".join(goals))
        print(f"After: {harness.load_after()}")
        counts = harness.site_info(site)
        signed = sum(r.ok_count for n, r in results.items() if n.startswith("sign"))
        if any(n.startswith("sign") for n in results):
            # Warm-up requests are not in the results, so the table holds at most the rows.
            print(f"\nRows written: {counts}; 3xx sign responses measured: {signed}")
        if args.json:
            args.json.write_text(
                json.dumps(
                    {
                        "server": srv.description,
                        "database": site.database,
                        "connections": args.connections,
                        "duration": args.duration,
                        "results": [r.as_dict() for r in results.values()],
                        "skipped": skipped,
                        "goals": goals,
                        "rows": counts,
                    },
                    indent=2,
                )
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
