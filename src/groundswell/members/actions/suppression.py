"""Suppression: the keyed hashes of addresses we must not mail, kept after the person is
gone, and lifted only by a fresh consent."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection

from groundswell.lib.db import column_in
from groundswell.lib.tokens import email_hash, email_hashes
from groundswell.members.models import (
    Person,
    Suppression,
    SuppressionReason,
)


def is_suppressed(normalised_email: str) -> bool:
    return Suppression.objects.filter(email_hash__in=email_hashes(normalised_email)).exists()


def do_suppress(normalised_email: str, *, reason: SuppressionReason, source: str) -> None:
    Suppression.objects.get_or_create(
        email_hash=email_hash(normalised_email), defaults={"reason": reason, "source": source}
    )


def suppressed_people(people: Sequence[Person]) -> set[int]:
    """Ids of those of these people whose address is suppressed, in one query."""
    by_hash = {h: person.pk for person in people for h in email_hashes(person.email_normalised)}
    if not by_hash:
        return set()
    # By hand: every batch of signatures asks it, while holding the write lock.
    meta, quote = Suppression._meta, connection.ops.quote_name
    column = quote(meta.get_field("email_hash").column)
    clause, params = column_in(column, list(by_hash))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {quote(meta.db_table)} WHERE {clause}", params)  # noqa: S608
        return {by_hash[h] for (h,) in cursor.fetchall()}


def lift_suppressions(people: Sequence[Person]) -> None:
    # A fresh consent from the person is the one thing that lifts a suppression.
    hashes = {h for person in people for h in email_hashes(person.email_normalised)}
    # By hand: a queryset's delete() costs ten times the statement's own time in Python
    # (its collector looks for related rows and signals; a suppression has neither),
    # and signatures written together run this while holding the write lock.
    meta, quote = Suppression._meta, connection.ops.quote_name
    clause, params = column_in(quote(meta.get_field("email_hash").column), hashes)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {quote(meta.db_table)} WHERE {clause}", params)  # noqa: S608
