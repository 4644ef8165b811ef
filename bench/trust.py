"""The trust page at a million signatures (issue 19, item 2): unusual activity, trending
petitions, a bulk invalidation's preview, the invalidation of 100,000 signatures and
its undo.

    .venv/bin/python bench/trust.py [--signatures 1000000] [--flood 100000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/trust.py

Fills a fresh site as bench/staff_stats.py does (three petitions over 30 days), gives
every signature a network (a crowd: one network per signature or so) and an email
domain (a third on gmail.com, the rest over 5,000 domains), then turns `--flood` of the
biggest petition's signatures into a flood: one network, one domain, the last hour.
Times, as a signed-in administrator through every middleware (median of 5): the trust
page for each period, the trending page, the preview of invalidating the flood; then
the invalidation itself and its undo, once each.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

FLOOD_NETWORK = "203.0.113.7"
FLOOD_DOMAIN = "fakes.example"
TARGET_MS = 500


def spread(biggest: int, flood: int) -> None:
    from django.db import connection

    postgres = connection.vendor == "postgresql"
    # Run with parameters: "%%" is the operator.
    ago = (
        "now() - (id %% 3600) * interval '1 second'"
        if postgres
        else "datetime('now', '-' || (id %% 3600) || ' seconds')"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE petitions_signature SET "
            "client_network = '10.' || (id % 250) || '.' || ((id / 250) % 250) || '.' "
            "|| ((id / 62500) % 250), "
            "email_domain = CASE id % 3 WHEN 0 THEN 'gmail.com' "
            "ELSE 'd' || (id % 5000) || '.example' END"
        )
        cursor.execute(
            "SELECT id FROM petitions_signature WHERE petition_id = %s AND status = 'valid' "
            "ORDER BY id DESC LIMIT %s",
            [biggest, flood],
        )
        ids = [row[0] for row in cursor.fetchall()]
        for start in range(0, len(ids), 10_000):
            chunk = ids[start : start + 10_000]
            marks = ",".join("%s" for _ in chunk)
            cursor.execute(
                f"UPDATE petitions_signature SET client_network = %s, email_domain = %s, "
                f"created_at = {ago} WHERE id IN ({marks})",
                [FLOOD_NETWORK, FLOOD_DOMAIN, *chunk],
            )
        if postgres:
            cursor.execute("VACUUM ANALYZE petitions_signature")


def _profiler():  # type: ignore[no-untyped-def]
    """With BENCH_PROFILE=1, where the invalidation spends its time."""
    if not os.environ.get("BENCH_PROFILE"):
        return None
    import cProfile

    profile = cProfile.Profile()
    profile.enable()
    return profile


def _report(profile) -> None:  # type: ignore[no-untyped-def]
    if profile is None:
        return
    import pstats

    profile.disable()
    pstats.Stats(profile).sort_stats("cumulative").sort_stats("tottime").print_stats(12)


def inner(total: int, flood: int) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "groundswell.settings")
    os.environ["STAFF_REQUIRE_2FA"] = "0"
    django.setup()
    from urllib.parse import urlsplit

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client
    from staff_stats import fill, timed

    from groundswell.orgs.models import Organisation
    from groundswell.petitions.models import (
        Petition,
        PetitionSponsor,
        Signature,
        SignatureStatus,
    )
    from groundswell.petitions.tally.dashboard import figures
    from groundswell.petitions.tally.refresh import refresh

    start = time.perf_counter()
    petitions = fill(total)
    spread(petitions[0], flood)
    print(f"filled {total:,} signatures in {time.perf_counter() - start:.0f} s", flush=True)
    for pk in petitions:
        refresh(pk)  # as the worker keeps them
    biggest = Petition.objects.get(pk=petitions[0])
    sponsor = Organisation.objects.create(
        name="Bench Action", slug="bench-action", sender_email="hello@bench.example.org"
    )
    for position, pk in enumerate(petitions):
        PetitionSponsor.objects.create(petition_id=pk, organisation=sponsor, position=position)
    valid = Signature.objects.filter(petition=biggest, status=SignatureStatus.VALID)
    admin = get_user_model().objects.create_superuser("bench-admin", "bench@example.org", "x")
    client = Client(HTTP_HOST=urlsplit(settings.BASE_URL).netloc)
    client.force_login(admin)

    def get(url: str) -> None:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)

    trust = f"/staff/petitions/{biggest.slug}/trust/"
    from groundswell.workspace.activity import activity

    networks = {row.value: row for row in activity(biggest, "day").networks.rows}
    assert networks[FLOOD_NETWORK].is_outlier, "the flood should stand out"
    get(trust)
    if os.environ.get("BENCH_PROFILE"):
        from django.db import connection

        def slow(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
            start = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                ms = (time.perf_counter() - start) * 1000
                if ms > 10:
                    print(f"{ms:8.1f} ms  {sql[:300]}")

        with connection.execute_wrapper(slow):
            get(trust)
    results = {
        "baseline: count the valid signatures": timed(valid.count, runs=5),
        "trust page, last 24 hours": timed(lambda: get(trust), runs=5),
        "trust page, last 7 days": timed(lambda: get(trust + "?period=week"), runs=5),
        "trust page, last 30 days": timed(lambda: get(trust + "?period=month"), runs=3),
        "trending page": timed(lambda: get("/staff/trending/"), runs=5),
    }

    def preview() -> None:
        response = client.post(trust + "invalidate/", {"preview": "1", "domain": FLOOD_DOMAIN})
        assert f"Invalidate {flood:,} signatures" in response.content.decode()

    results["preview of the flood"] = timed(preview, runs=5)
    before = valid.count()
    start = time.perf_counter()
    profile = _profiler()
    response = client.post(
        trust + "invalidate/", {"confirm": "1", "domain": FLOOD_DOMAIN, "reason": "bench"}
    )
    _report(profile)
    results[f"invalidate {flood:,} signatures"] = (time.perf_counter() - start) * 1000
    assert response.status_code == 302, response.status_code
    assert valid.count() == before - flood
    from groundswell.workspace.models import InvalidationBatch

    batch = InvalidationBatch.objects.get()
    start = time.perf_counter()
    response = client.post(trust + f"batches/{batch.pk}/undo/")
    results[f"undo the {flood:,}"] = (time.perf_counter() - start) * 1000
    assert valid.count() == before
    check = figures(biggest)
    assert check["total"] == before, (check["total"], before)

    baseline = results["baseline: count the valid signatures"]
    print(f"petition with {before:,} valid signatures, {flood:,} of them a flood:")
    for name, ms in results.items():
        print(f"  {name:45} {ms:10.1f} ms  {ms / baseline:8.2f} x baseline")
    for name in [n for n in results if n.startswith(("trust page", "trending", "preview"))]:
        verdict = "meets" if results[name] < TARGET_MS else "MISSES"
        print(f"{name}: {results[name]:.0f} ms, {verdict} the {TARGET_MS} ms goal")
    print(json.dumps({k: round(v, 1) for k, v in results.items()}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signatures", type=int, default=1_000_000)
    parser.add_argument("--flood", type=int, default=100_000)
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        inner(args.signatures, args.flood)
        return
    from harness import site

    with site() as s:
        print(f"database: {s.database}", flush=True)
        subprocess.run(
            [
                sys.executable,
                __file__,
                "--inner",
                "--signatures",
                str(args.signatures),
                "--flood",
                str(args.flood),
            ],
            env=s.env,
            check=True,
        )


if __name__ == "__main__":
    main()
