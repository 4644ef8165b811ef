"""One-click signatures by recognised members, the click wave after a big send: the
sign view checks the member's link and hands over only the id it carries; the
signature writer reads every member of its batch in one statement, here, instead of
each web request reading its own (docs/performance.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from django.db import connection

from groundswell.lib.db import column_in, select_where
from groundswell.lib.limits import domain_of
from groundswell.members.models import Person
from groundswell.petitions.actions.pending import PendingSignature
from groundswell.petitions.defences import with_domain


def with_members_read(
    pending: Sequence[PendingSignature],
) -> tuple[list[PendingSignature], set[int], list[Person]]:
    """The signatures with each member's address and names filled in from their record
    (and their email domain counted where the petition's rules count it); the indexes
    of those whose member is gone (erased since the link was sent) or lacks a detail
    the petition requires (the sign view then asks for it); and the members read."""
    ids = {p.details.member_id for p in pending if p.details.member_id is not None}
    if not ids:
        return list(pending), set(), []
    meta = Person._meta
    assert meta.pk is not None
    clause, params = column_in(connection.ops.quote_name(meta.pk.column), sorted(ids))
    people = {person.pk: person for person in select_where(Person, clause, params)}
    read: list[PendingSignature] = []
    gone: set[int] = set()
    for i, p in enumerate(pending):
        member_id = p.details.member_id
        if member_id is None:
            read.append(p)
            continue
        person = people.get(member_id)
        if person is None or not all(getattr(person, name) for name in p.details.member_requires):
            gone.add(i)
            read.append(p)
            continue
        read.append(
            replace(
                p,
                details=replace(
                    p.details,
                    email=person.email,
                    first_name=person.first_name,
                    last_name=person.last_name,
                ),
                normalised_email=person.email_normalised,
                counted=with_domain(p.limits, p.counted, domain_of(person.email_normalised))
                if p.limits
                else p.counted,
            )
        )
    return read, gone, list(people.values())
