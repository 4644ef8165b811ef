"""Tallies that follow a change to signatures already counted (invalidated,
restored, anonymised, merged), in the changing transaction, so the dashboard shows
the change at once."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from datetime import datetime

from django.db import connection
from django.utils import timezone

from groundswell.lib.db import insert_all
from groundswell.petitions.models import Signature, SignatureTally, TallyMark
from groundswell.petitions.tally.counting import day_start, grouped


@contextmanager
def tallies_follow(signature_ids: Collection[int]) -> Iterator[None]:
    """Around a change to signatures that may already be tallied (invalidated,
    restored, anonymised, merged), inside the changing transaction: the tallies lose
    them as they were and gain them as they are, at once, and a refresh that counted
    before the change throws its result away."""
    ids = sorted(set(signature_ids))
    petition_ids = set(
        Signature.objects.filter(pk__in=ids).values_list("petition_id", flat=True).distinct()
    )
    marks = dict(
        TallyMark.objects.select_for_update()
        .filter(petition_id__in=petition_ids)
        .values_list("petition_id", "counted_before")
    )

    def counted() -> dict[tuple[int, str, datetime, str], int]:
        buckets: dict[tuple[int, str, datetime, str], int] = defaultdict(int)
        for petition_id, before in marks.items():
            for chunk in range(0, len(ids), 5000):
                found = grouped(petition_id, None, before, ids=ids[chunk : chunk + 5000])
                for (dimension, hour, value), n in found.items():
                    buckets[(petition_id, dimension, hour, value)] += n
        return buckets

    old = counted()
    yield
    new = counted()
    deltas = {key: new.get(key, 0) - old.get(key, 0) for key in old.keys() | new.keys()}
    for petition_id in marks:
        _add(petition_id, {k[1:]: n for k, n in deltas.items() if k[0] == petition_id and n})
    TallyMark.objects.filter(petition_id__in=marks).update(changed_at=timezone.now())


def _add(petition_id: int, deltas: dict[tuple[str, datetime, str], int]) -> None:
    """Add each delta to its hour's row, or to its day's row once compacted (a new
    row when neither is there). The rows are read once and written in batches: a
    bulk invalidation of thousands of signatures touches thousands of rows, and one
    UPDATE each took most of its time. The caller holds the petition's TallyMark,
    which every writer of these rows takes first."""
    if not deltas:
        return
    hours = {hour for _, hour, _ in deltas} | {day_start(hour) for _, hour, _ in deltas}
    values = sorted({value for _, _, value in deltas})
    rows: dict[tuple[str, datetime, str], list[int]] = {}
    for start in range(0, len(values), 5000):  # within SQLite's limit on parameters
        for pk, dimension, hour, value, count in SignatureTally.objects.filter(
            petition_id=petition_id,
            dimension__in={dimension for dimension, _, _ in deltas},
            hour__in=hours,
            value__in=values[start : start + 5000],
        ).values_list("pk", "dimension", "hour", "value", "count"):
            rows[(dimension, hour, value)] = [pk, count]
    changed: dict[int, list[int]] = {}
    added: dict[tuple[str, datetime, str], SignatureTally] = {}
    for (dimension, hour, value), delta in deltas.items():
        row = rows.get((dimension, hour, value)) or rows.get((dimension, day_start(hour), value))
        if row is not None:
            row[1] += delta
            changed[row[0]] = row
        elif delta > 0:
            added[(dimension, hour, value)] = SignatureTally(
                petition_id=petition_id, dimension=dimension, hour=hour, value=value, count=delta
            )
    # One statement run for every row (bulk_update's CASE per row cost more in Python
    # than the writes did in the database).
    table = SignatureTally._meta.db_table
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET count = %s WHERE id = %s",  # noqa: S608 (our own name)
            # At or below zero the caller deletes the row; the column is unsigned.
            [(max(count, 0), pk) for pk, count in changed.values()],
        )
    insert_all(list(added.values()))
    # Only the rows changed here can have reached zero: deleting by their ids, not by
    # scanning the petition's every row for a zero count (a big petition has
    # hundreds of thousands, and a bulk invalidation calls this once per chunk).
    emptied = [pk for pk, count in changed.values() if count <= 0]
    for start in range(0, len(emptied), 5000):
        SignatureTally.objects.filter(pk__in=emptied[start : start + 5000]).delete()
