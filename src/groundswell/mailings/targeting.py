"""Who a mailing goes to.

The database does the set work (lists, petitions, country, postal code); the
suppression list is checked in Python because it holds keyed hashes of addresses,
which only this process can compute. People are read in id-ordered batches (keyset
pagination, never OFFSET, never one IN list of everyone), so a million-person
organisation costs memory for one batch at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, QuerySet, Value
from django.db.models.functions import Replace, Upper

from groundswell.lib.addresses import mail_address
from groundswell.lib.tokens import email_hashes
from groundswell.members.models import Person, Subscription, SubscriptionStatus, Suppression
from groundswell.petitions.models import Signature, SignatureStatus

from .models import Mailing

BATCH_SIZE = 2000


@dataclass(frozen=True)
class Target:
    person_id: int
    email: str


def normalise_postal_code(value: str) -> str:
    return "".join(value.split()).upper()


def parse_country_codes(text: str) -> list[str]:
    """ "gb, us" as ["GB", "US"]: how the countries field is read when saved and when sent."""
    return [code.strip().upper() for code in text.split(",") if code.strip()]


def country_codes(mailing: Mailing) -> list[str]:
    return parse_country_codes(mailing.countries)


def _has(rows: QuerySet[Any]) -> Exists:
    """Has one of these rows (each row names its person)."""
    return Exists(rows.filter(person=OuterRef("pk")))


def _subscribed_to(list_ids: list[int]) -> Exists:
    """Is subscribed to one of the lists (members of a list are its subscribed people)."""
    subscribed = Subscription.objects.filter(status=SubscriptionStatus.SUBSCRIBED)
    return _has(subscribed.filter(mailing_list__in=list_ids))


def _signed(petition_ids: list[int]) -> Exists:
    """Has a valid signature on one of the petitions."""
    return _has(Signature.objects.filter(petition__in=petition_ids, status=SignatureStatus.VALID))


def recipients_query(mailing: Mailing) -> QuerySet[Person]:
    """People the mailing's filters select, before the suppression list (see iter_targets).

    One row per person however many included lists they are on: the lists are
    tested with EXISTS, never joined.
    """
    include = list(mailing.include_lists.values_list("pk", flat=True))
    people = Person.objects.filter(_subscribed_to(include))
    exclude = list(mailing.exclude_lists.values_list("pk", flat=True))
    if exclude:
        people = people.exclude(_subscribed_to(exclude))
    excluded_petitions = list(mailing.exclude_signers_of.values_list("pk", flat=True))
    if excluded_petitions:
        people = people.exclude(_signed(excluded_petitions))
    if mailing.only_signers_of_id is not None:
        people = people.filter(_signed([mailing.only_signers_of_id]))
    countries = country_codes(mailing)
    if countries:
        people = people.filter(country__in=countries)
    prefix = normalise_postal_code(mailing.postal_code_prefix)
    if prefix:
        people = people.annotate(
            postal_code_compact=Replace(Upper("postal_code"), Value(" "), Value(""))
        ).filter(postal_code_compact__startswith=prefix)
    return people


def _suppressed_hashes(hashes: list[str]) -> set[str]:
    found: set[str] = set()
    # A few thousand per query: the IN list stays small and uses the unique index.
    for start in range(0, len(hashes), 5000):
        found.update(
            Suppression.objects.filter(email_hash__in=hashes[start : start + 5000]).values_list(
                "email_hash", flat=True
            )
        )
    return found


def iter_target_batches(mailing: Mailing, batch_size: int = BATCH_SIZE) -> Iterator[list[Target]]:
    """The mailing's recipients in batches ordered by person id, suppressed addresses left out."""
    people = recipients_query(mailing).order_by("pk")
    after = 0
    while True:
        rows = list(
            people.filter(pk__gt=after).values_list("pk", "email", "email_normalised")[:batch_size]
        )
        if not rows:
            return
        after = rows[-1][0]
        hashes_by_person = {pk: email_hashes(normalised) for pk, _email, normalised in rows}
        suppressed = _suppressed_hashes([h for hs in hashes_by_person.values() for h in hs])
        batch = [
            Target(person_id=pk, email=address)
            for pk, email, _normalised in rows
            if suppressed.isdisjoint(hashes_by_person[pk])
            and (address := _sendable(email)) is not None
        ]
        if batch:
            yield batch
        if len(rows) < batch_size:
            return


def count_recipients(mailing: Mailing) -> int:
    """How many people the mailing would go to if sent now (what staff see before sending)."""
    if not mailing.pk or not mailing.include_lists.exists():
        return 0
    return sum(len(batch) for batch in iter_target_batches(mailing))


def _sendable(email: str) -> str | None:
    """The address as SMTP takes it (an international domain in IDNA 2008's ASCII form:
    the transport cannot send anything else); None for one no domain can have, which
    only data from before normalise_email could hold."""
    try:
        return mail_address(email)
    except ValidationError:
        return None
