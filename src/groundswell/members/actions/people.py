"""Finding people by address and creating them: one at a time, or many for signatures
written together; removing those left without a purpose."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction

from groundswell.lib.addresses import normalise_email
from groundswell.lib.db import column_in, insert_all, savepoint_for_races, select_where
from groundswell.members.actions.audit import record_audit
from groundswell.members.models import (
    AuditAction,
    AuditEntry,
    Person,
)


@dataclass(frozen=True)
class PersonDetails:
    email: str
    first_name: str = ""
    last_name: str = ""
    postal_code: str = ""
    country: str = ""
    address: str = ""


def do_find_or_create_person(details: PersonDetails, *, source: str) -> tuple[Person, bool]:
    """The person with this address (any case or spacing), created if new.

    An existing person's details are filled in where they were blank, never
    overwritten: someone holding only an email address must not be able to
    change another person's name.
    """
    normalised = normalise_email(details.email)
    # No savepoint when called inside a caller's transaction (signing): nothing here
    # needs undoing on its own, and each savepoint costs two statements.
    with transaction.atomic(savepoint=False):
        person = Person.objects.filter(email_normalised=normalised).first()
        if person is None:
            try:
                with savepoint_for_races():
                    person = new_person(details, normalised, source=source)
                    person.save(force_insert=True)
                return person, True
            except IntegrityError:
                # Someone else created this address a moment ago (PostgreSQL; on SQLite
                # IMMEDIATE transactions serialise writers, so this cannot happen there).
                person = Person.objects.get(email_normalised=normalised)
        do_fill_in_blanks(person, details)
        return person, False


def new_person(details: PersonDetails, normalised: str, *, source: str) -> Person:
    """An unsaved Person for these details, trimmed as we store them."""
    return Person(
        email=details.email.strip(),
        email_normalised=normalised,
        first_name=details.first_name.strip(),
        last_name=details.last_name.strip(),
        postal_code=details.postal_code.strip(),
        country=details.country.strip().upper(),
        address=details.address.strip(),
        source=source,
    )


def do_fill_in_blanks(person: Person, details: PersonDetails) -> None:
    """Fill in the person's details where they are blank, never overwriting: someone
    holding only an email address must not be able to change another person's name."""
    changed = []
    for field in ("first_name", "last_name", "postal_code", "country", "address"):
        value = getattr(details, field).strip()
        if field == "country":
            value = value.upper()
        if value and not getattr(person, field):
            setattr(person, field, value)
            changed.append(field)
    if changed:
        person.save(update_fields=[*changed, "updated_at"])


def do_find_or_create_people(
    wanted: Sequence[tuple[PersonDetails, str]],
    *,
    normalised_emails: Sequence[str] | None = None,
    known: Sequence[Person] = (),
) -> list[tuple[Person, bool]]:
    """do_find_or_create_person for many (details, source) pairs in a few statements,
    for signatures written together. Blanks are not filled in here: the caller does it
    (do_fill_in_blanks) only for those it goes on to use.

    Each pair gets its person and whether this call created it; an address given twice
    is created once, for the first. A concurrent transaction creating one of the
    addresses (PostgreSQL) makes the insert raise IntegrityError: the caller retries the
    whole transaction, which then finds it. `normalised_emails`, when the caller has
    them already, are normalise_email of each details.email; `known`, people the caller
    has read already in this transaction (not looked up again).
    """
    normalised = (
        list(normalised_emails)
        if normalised_emails is not None
        else [normalise_email(details.email) for details, _ in wanted]
    )
    found = {p.email_normalised: p for p in known}
    unread = [address for address in normalised if address not in found]
    if unread:
        found.update((p.email_normalised, p) for p in _people_by_address(unread))
    new: dict[str, Person] = {}
    for (details, source), address in zip(wanted, normalised, strict=True):
        if address not in found and address not in new:
            new[address] = new_person(details, address, source=source)
    insert_all(list(new.values()))
    result = []
    for address in normalised:
        if address in new:
            found[address] = new.pop(address)
            result.append((found[address], True))
        else:
            result.append((found[address], False))
    return result


def _people_by_address(normalised: Sequence[str]) -> list[Person]:
    """The people with these normalised addresses. By hand: signatures written together
    look them up in every batch, and the query compiler's work for it was a fifth of
    the batch's Python time, most of it for a batch of people who are all new."""
    column = connection.ops.quote_name(Person._meta.get_field("email_normalised").column)
    return select_where(Person, *column_in(column, normalised))


def do_delete_people_without_purpose(person_ids: set[int], *, actor: str) -> int:
    """Remove those of these people who have no signature and no subscription left."""
    with transaction.atomic():
        idle = Person.objects.filter(pk__in=person_ids, signatures__isnull=True).exclude(
            subscriptions__isnull=False
        )
        ids = list(idle.values_list("pk", flat=True))
        if not ids:
            return 0
        AuditEntry.objects.filter(person_id__in=ids).update(person=None)
        Person.objects.filter(pk__in=ids).delete()
        record_audit(AuditAction.REMOVED_IDLE_PEOPLE, actor, details={"count": len(ids)})
        return len(ids)
