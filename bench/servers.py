"""Which production server for `groundswell serve`, and how many threads: measured.

    .venv/bin/python bench/servers.py                 # 2 rounds, 8 s per scenario
    .venv/bin/python bench/servers.py --rounds 1 --duration 3

Runs the constant view (`ok`) and the single-row insert (`insert`) on one fresh
site against each server configuration in turn, the configurations interleaved
round by round so a slow minute on a shared machine does not favour one of them.
Prints every round and the median per configuration. See docs/performance.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import harness
import sign
from loadgen import Result

CONFIGS = [
    ("granian", 2, 1),
    ("granian", 2, 2),
    ("granian", 2, 4),
    ("granian", 2, 8),
    ("gunicorn-sync", 2, 1),
    ("gunicorn-sync", 4, 1),
    ("gunicorn-gthread", 2, 2),
    ("gunicorn-gthread", 2, 4),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--duration", type=float, default=8)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--client", default="auto", choices=["auto", "wrk", "asyncio"])
    parser.add_argument("--only", default="ok,insert")
    opts = parser.parse_args(argv)
    args = sign.parse_args(
        [
            f"--duration={opts.duration}",
            f"--warmup={opts.warmup}",
            f"--connections={opts.connections}",
            f"--client={opts.client}",
        ]
    )
    names = opts.only.split(",")
    runs: dict[tuple[str, int, int], dict[str, list[Result]]] = {}
    descriptions: dict[tuple[str, int, int], str] = {}
    with harness.site() as site:
        print(
            f"{site.database}; {args.client}; {args.connections} connections; {opts.rounds} rounds"
        )
        print(f"CPU calibration: sum(range(1000)) takes {harness.cpu_calibration():.1f} µs")
        for round_number in range(1, opts.rounds + 1):
            for config in CONFIGS:
                kind, workers, threads = config
                with harness.server(site, kind, workers, threads) as srv:
                    descriptions[config] = srv.description
                    print(f"round {round_number}: {srv.description}")
                    results, _ = sign.run_scenarios(site, srv, names, args)
                for name, result in results.items():
                    runs.setdefault(config, {}).setdefault(name, []).append(result)
                time.sleep(1)
    print(f"\nMedian of {opts.rounds} rounds ({site.database}, {args.client}):\n")
    head = ["server"]
    for name in names:
        head += [f"{name} req/s", f"{name} p50 ms", f"{name} p99 ms", f"{name} errors"]
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join("---" for _ in head) + "|")
    for config in CONFIGS:
        row = [descriptions[config]]
        for name in names:
            rs = runs[config][name]
            rates = ", ".join(f"{r.rate:,.0f}" for r in rs)
            row.append(f"{statistics.median(r.rate for r in rs):,.0f} ({rates})")
            row.append(f"{statistics.median(r.percentile(50) for r in rs) * 1000:.1f}")
            row.append(f"{statistics.median(r.percentile(99) for r in rs) * 1000:.1f}")
            row.append(str(sum(r.errors for r in rs)))
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
