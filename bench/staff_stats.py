"""The staff dashboard's figures at a million signatures (issue 18, item 7).

    .venv/bin/python bench/staff_stats.py [--signatures 1000000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/staff_stats.py

Fills a fresh site (SQLite, or a fresh PostgreSQL database when DATABASE_URL is set)
with people and signatures across three petitions by SQL, then times, on the biggest:
the baseline (counting its valid signatures, what the public count does), grouping
every signature at once (the dashboard without tallies), a full and an incremental
tally refresh, and `figures` (tallies plus the newest signatures) as `stats.json`
serves it. Ratios are to the baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

SHARES = (0.6, 0.3, 0.1)
TARGET_MS = 500


def fill(total: int) -> list[int]:
    """People and signatures by SQL: one statement each, whatever the number."""
    from django.db import connection
    from django.utils import timezone

    from groundswell.petitions.models import Petition, PetitionStatus

    petitions = [
        Petition.objects.create(
            slug=f"stats-{n}",
            title=f"Stats petition {n}",
            target="the council",
            statement="A statement.",
            status=PetitionStatus.OPEN,
            opened_at=timezone.now(),
        ).pk
        for n in range(len(SHARES))
    ]
    cut = [0]
    for share in SHARES:
        cut.append(cut[-1] + int(total * share))
    postgres = connection.vendor == "postgresql"
    series = (
        f"SELECT generate_series(1, {total}) AS i"
        if postgres
        else f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {total}) "
        "SELECT i FROM n"
    )
    ago = (
        (lambda seconds: f"now() - ({seconds}) * interval '1 second'")
        if postgres
        else (lambda seconds: f"datetime('now', '-' || ({seconds}) || ' seconds')")
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO members_person (email, email_normalised, first_name, last_name, address, "
            "postal_code, country, source, created_at, updated_at) "
            f"SELECT 'p' || i || '@bench.example', 'p' || i || '@bench.example', 'Pat', 'Lee', '', "
            f"(10000 + ((i % 100000) * 7919) % 89999) || '', "
            "CASE i % 8 WHEN 0 THEN 'GB' WHEN 1 THEN 'DE' WHEN 2 THEN 'FR' ELSE 'US' END, "
            "'bench', "
            f"{ago('(i % 2592000) + 5')}, {ago('(i % 2592000) + 5')} FROM ({series}) s"
        )
        cursor.execute("SELECT min(id) FROM members_person WHERE source = 'bench'")
        first_person = cursor.fetchone()[0]
        petition_of = " ".join(
            f"WHEN i <= {cut[n + 1]} THEN {pk}" for n, pk in enumerate(petitions)
        )
        cursor.execute(
            "INSERT INTO petitions_signature (petition_id, person_id, comment, show_name, source, "
            "http_referer, utm_source, utm_medium, utm_campaign, utm_term, utm_content, "
            "created_at, status, invalidated_reason) "
            f"SELECT CASE {petition_of} END, {first_person} + i - 1, '', false, "
            "CASE i % 5 WHEN 0 THEN 'email' WHEN 1 THEN 'share-facebook' WHEN 2 THEN 'share-x' "
            "ELSE '' END, "
            "CASE i % 7 WHEN 0 THEN 'https://www.facebook.com/' WHEN 1 THEN 'https://t.co/x' "
            "ELSE '' END, '', '', '', '', '', "
            f"{ago('i % 2592000')}, "
            "CASE WHEN i % 101 = 0 THEN 'invalidated' ELSE 'valid' END, '' "
            f"FROM ({series}) s"
        )
        if postgres:
            cursor.execute("ANALYZE")
    return petitions


def timed(action, runs: int = 1) -> float:
    """Median milliseconds of `runs` calls."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def inner(total: int) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "groundswell.settings")
    django.setup()
    from django.utils import timezone

    from groundswell.members.models import Person
    from groundswell.petitions import tally
    from groundswell.petitions.models import Petition, Signature, SignatureStatus

    start = time.perf_counter()
    petitions = fill(total)
    print(f"filled {total:,} signatures in {time.perf_counter() - start:.0f} s", flush=True)
    biggest = Petition.objects.get(pk=petitions[0])
    valid = Signature.objects.filter(petition=biggest, status=SignatureStatus.VALID)
    results = {
        "baseline: count the valid signatures": timed(valid.count, runs=5),
        "group every signature (no tallies)": timed(
            lambda: tally._shape(tally._grouped(biggest.pk, None, None), timezone.now())
        ),
        "full tally refresh": timed(lambda: tally.refresh(biggest.pk)),
    }
    person = Person.objects.filter(source="bench").first()
    fresh = [Signature(petition_id=pk, person=person, source="email") for pk in petitions[1:]]
    Signature.objects.bulk_create(fresh)  # newer than the mark: read from the signatures
    results["figures (stats.json), tallies + newest"] = timed(
        lambda: tally.figures(biggest), runs=20
    )
    results["incremental tally refresh"] = timed(lambda: tally.refresh(biggest.pk), runs=3)
    check = tally.figures(biggest)
    assert check["total"] == valid.count(), (check["total"], valid.count())
    baseline = results["baseline: count the valid signatures"]
    print(f"petition with {valid.count():,} valid signatures:")
    for name, ms in results.items():
        print(f"  {name:45} {ms:10.1f} ms  {ms / baseline:8.2f} x baseline")
    figures_ms = results["figures (stats.json), tallies + newest"]
    verdict = "meets" if figures_ms < TARGET_MS else "MISSES"
    print(f"figures: {figures_ms:.0f} ms, {verdict} the {TARGET_MS} ms goal")
    print(json.dumps({k: round(v, 1) for k, v in results.items()}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signatures", type=int, default=1_000_000)
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        inner(args.signatures)
        return
    from harness import site

    with site() as s:
        print(f"database: {s.database}", flush=True)
        subprocess.run(
            [sys.executable, __file__, "--inner", "--signatures", str(args.signatures)],
            env=s.env,
            check=True,
        )


if __name__ == "__main__":
    main()
