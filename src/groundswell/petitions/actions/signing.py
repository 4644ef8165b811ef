"""Signing: a signature prepared from the form, written alone or together with others
(people and consent through members). Marking it thanked: actions/thanks.py."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from functools import partial

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from groundswell.lib.addresses import normalise_email
from groundswell.lib.clients import network_of
from groundswell.lib.db import column_in, insert_all
from groundswell.lib.limits import domain_of
from groundswell.lib.metrics import count_sign_batch
from groundswell.lib.numbers import bounded_int
from groundswell.members.actions.consent import Consent, do_subscribe_many
from groundswell.members.actions.people import (
    PersonDetails,
    do_fill_in_blanks,
    do_find_or_create_people,
)
from groundswell.members.models import Person
from groundswell.petitions.actions.members import with_members_read
from groundswell.petitions.actions.pending import (
    PendingSignature,
    SignatureDetails,
    SignResult,
    SponsorLists,
)
from groundswell.petitions.consent import consents_to_record
from groundswell.petitions.defences import (
    BatchCount,
    confirms_by_email,
    count_recent,
    counted_under,
    parse_rules,
)
from groundswell.petitions.models import (
    Petition,
    PetitionStatus,
    Signature,
    SignatureConfirmation,
    SignatureStatus,
)
from groundswell.petitions.referrals import read_referral_code
from groundswell.petitions.tasks import (
    enqueue_already_signed_notes,
    enqueue_confirmation_emails,
    enqueue_thank_yous,
)


class PetitionNotOpen(Exception):
    """Only open petitions take signatures."""


def prepare_signature(
    petition: Petition,
    details: SignatureDetails,
    *,
    ip_address: str | None = None,
    sponsor_lists: SponsorLists | None = None,
    normalised_email: str | None = None,
    rate_limited: bool = False,
    address_proven: bool = False,
) -> PendingSignature:
    """Raises ValidationError for an unusable email. `sponsor_lists` is
    petition.sponsors_with_lists() as the signer's form was built from it (the page
    caches it for a few seconds); it is read here when not given. `normalised_email`
    is normalise_email(details.email) when the caller has it already (the sign form).
    `rate_limited`: the petition's rate limits apply (the public sign form; not an
    import or a script), counted by the signature writer. `address_proven`: the
    signer came by a link we emailed to this address (a recognised member), so it
    needs no confirming by email."""
    if details.member_id is not None:
        # A member signing by id: the writer reads their address (actions/members.py).
        normalised, domain = "", None
    else:
        normalised = normalised_email or normalise_email(details.email)
        domain = domain_of(normalised)
    if sponsor_lists is None:
        sponsor_lists = petition.sponsors_with_lists()
    limits, counted = (
        counted_under(petition, network_of(ip_address), domain) if rate_limited else ("", {})
    )
    return PendingSignature(
        petition=petition,
        details=details,
        normalised_email=normalised,
        consents=consents_to_record(petition, sponsor_lists, details.consents),
        referrer_id=read_referral_code(details.referral_code),
        ip_address=ip_address,
        limits=limits,
        counted=counted,
        confirm=confirms_by_email(petition) and not address_proven,
    )


def do_sign_petition(
    petition: Petition,
    details: SignatureDetails,
    *,
    ip_address: str | None = None,
    sponsor_lists: SponsorLists | None = None,
    normalised_email: str | None = None,
) -> SignResult:
    """Sign once per email address; record consent per organisation as worded on the page.

    Raises ValidationError for an unusable email and PetitionNotOpen unless the
    petition is open. A second signature with the same address (any case or
    spacing) changes nothing and returns already_signed.

    This writes the signature in a transaction of its own. The public sign view
    instead hands prepare_signature's result to the signature writer
    (petitions/writer.py), which commits it together with others.
    """
    pending = prepare_signature(
        petition,
        details,
        ip_address=ip_address,
        sponsor_lists=sponsor_lists,
        normalised_email=normalised_email,
    )
    [result] = do_sign_petitions([pending])
    if result.not_open:
        raise PetitionNotOpen(petition.slug)
    return result


# How often a batch is tried again after a concurrent transaction (PostgreSQL) made one
# of its inserts fail; the next attempt sees that transaction's rows.
SIGN_ATTEMPTS = 3


def do_sign_petitions(pending: Sequence[PendingSignature]) -> list[SignResult]:
    """Write these signatures in one transaction, in a handful of statements whatever
    their number, and return each one's result in order, once committed.

    The same address twice among them (for the same petition) signs once; the later
    ones are already_signed, as is anyone who had signed before.
    """
    for attempt in range(1, SIGN_ATTEMPTS + 1):
        try:
            with transaction.atomic():
                results = _write_signatures(pending)
                written = sum(not r.already_signed and not r.not_open for r in results)
                transaction.on_commit(partial(count_sign_batch, len(pending), written))
                return results
        except IntegrityError:
            if attempt == SIGN_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def _write_signatures(pending: Sequence[PendingSignature]) -> list[SignResult]:
    # On SQLite the transaction is IMMEDIATE: writers queue for it, one at a time, so
    # everything below runs as few statements as it can, none of them per signature.
    # Read afresh, inside the transaction: a petition closed a moment ago takes no more.
    open_ids = _open_petitions({p.petition.pk for p in pending})
    results: list[SignResult | None] = [None] * len(pending)
    pending, gone, members = with_members_read(pending)
    for i in gone:
        results[i] = SignResult(already_signed=False, member_not_ready=True)
    first_of: dict[tuple[int, str], int] = {}
    signing: list[int] = []
    count = _rate_limit_count(
        [
            p
            for i, p in enumerate(pending)
            if p.counted and p.petition.pk in open_ids and i not in gone
        ]
    )
    for i, p in enumerate(pending):
        if i in gone:
            continue
        over = None
        if p.petition.pk in open_ids and p.counted and count is not None:
            over = count.admit(p.petition.pk, p.limits, p.counted)
        if p.petition.pk not in open_ids:
            results[i] = SignResult(already_signed=False, not_open=True)
        elif over is not None:
            results[i] = SignResult(already_signed=False, over_limit=over)
        elif (p.petition.pk, p.normalised_email) in first_of:
            results[i] = SignResult(already_signed=True)
        else:
            first_of[(p.petition.pk, p.normalised_email)] = i
            signing.append(i)
    if not signing:
        return [r or SignResult(already_signed=True) for r in results]

    people = do_find_or_create_people(
        [
            (
                _person_details(pending[i].details),
                pending[i].details.source or f"petition:{pending[i].petition.slug}",
            )
            for i in signing
        ],
        normalised_emails=[pending[i].normalised_email for i in signing],
        known=members,
    )
    # Someone new cannot have signed; anyone else may have.
    known = {person.pk for person, created in people if not created}
    signed_before = (
        _signed_before({pending[i].petition.pk for i in signing}, known) if known else {}
    )
    referrers = {pending[i].referrer_id for i in signing} - {None}
    if referrers:
        referrers = set(Person.objects.filter(pk__in=referrers).values_list("pk", flat=True))

    signatures: list[Signature] = []
    consents: list[Consent] = []
    repeats: list[int] = []
    # Signatures waiting for their signer's confirmation, and their consent until then.
    unconfirmed: list[tuple[Signature, PendingSignature]] = []
    reminders: list[int] = []
    signer_of: dict[tuple[int, str], int] = {}
    for i, (person, created) in zip(signing, people, strict=True):
        p, details = pending[i], pending[i].details
        signer_of[(p.petition.pk, p.normalised_email)] = person.pk
        earlier = signed_before.get((p.petition.pk, person.pk))
        if earlier is not None:
            results[i] = SignResult(already_signed=True, signer_id=person.pk)
            # Still unconfirmed: the confirmation again, instead of a second signature.
            (reminders if earlier[1] == SignatureStatus.PENDING else repeats).append(earlier[0])
            continue
        # Whoever typed an address that is not theirs changes nothing of its owner's.
        if not created and not p.confirm:
            do_fill_in_blanks(person, _person_details(details))
        referrer_id = p.referrer_id if p.referrer_id in referrers else None
        signature = Signature(
            petition=p.petition,
            person=person,
            comment=details.comment.strip(),
            show_name=details.show_name,
            source=details.source[:100],
            # Nobody refers themselves.
            referrer_id=referrer_id if referrer_id != person.pk else None,
            http_referer=details.http_referer[:500],
            utm_source=details.utm_source[:100],
            utm_medium=details.utm_medium[:100],
            utm_campaign=details.utm_campaign[:100],
            utm_term=details.utm_term[:100],
            utm_content=details.utm_content[:100],
            mailing_id=details.mailing_id or None,
            # Bounded here too: a number the column cannot hold would fail everyone
            # else's signature in this transaction.
            link_number=bounded_int(details.link_number),
            client_network=network_of(p.ip_address),
            email_domain=p.normalised_email.rpartition("@")[2],
            status=SignatureStatus.PENDING if p.confirm else SignatureStatus.VALID,
        )
        signatures.append(signature)
        results[i] = SignResult(
            already_signed=False, signature=signature, person_id=person.pk, signer_id=person.pk
        )
        if p.confirm:
            unconfirmed.append((signature, p))
            continue
        source = f"petition:{p.petition.slug}"
        consents.extend(
            Consent(person, mailing_list, source=source, wording=wording, ip_address=p.ip_address)
            for mailing_list, wording in p.consents
        )
    insert_all(signatures)
    do_subscribe_many(consents, new_people={person.pk for person, created in people if created})
    SignatureConfirmation.objects.bulk_create(
        [
            SignatureConfirmation(
                signature_id=signature.pk,
                consents=[[mailing_list.pk, wording] for mailing_list, wording in p.consents],
                ip_address=p.ip_address,
            )
            for signature, p in unconfirmed
        ]
    )
    enqueue_thank_yous([s.pk for s in signatures if s.status == SignatureStatus.VALID])
    enqueue_confirmation_emails([s.pk for s, _ in unconfirmed] + reminders)
    enqueue_already_signed_notes(repeats)
    return [
        r
        or SignResult(
            already_signed=True,
            signer_id=signer_of.get((pending[i].petition.pk, pending[i].normalised_email)),
        )
        for i, r in enumerate(results)
    ]


def _rate_limit_count(pending: Sequence[PendingSignature]) -> BatchCount | None:
    """The recent signatures of every network and domain these are counted under, in
    each window of their rules, counted once for the batch (defences.count_recent)."""
    if not pending:
        return None
    wanted: dict[tuple[int, str], set[str]] = {}
    periods: dict[tuple[int, str], set[timedelta]] = {}
    for p in pending:
        rules = parse_rules(p.limits)
        for key, value in p.counted.items():
            wanted.setdefault((p.petition.pk, key), set()).add(value)
            periods.setdefault((p.petition.pk, key), set()).update(
                w.period for w in rules.get(key, ())
            )
    return count_recent(wanted, periods, now=timezone.now())


def _signed_before(petitions: set[int], people: set[int]) -> dict[tuple[int, int], tuple[int, str]]:
    """(petition, person) -> (signature, status) of those of these people who signed
    these petitions. By hand, as every batch with a member in it asks, and by the
    people alone: each has a handful of signatures, while a petition can have a
    million, and a planner misled (SQLite sorting by the model's newest-first;
    PostgreSQL's statistics from when the table was small) walked all of them."""
    meta, quote = Signature._meta, connection.ops.quote_name
    petition, person = (
        quote(meta.get_field("petition").column),
        quote(meta.get_field("person").column),
    )
    assert meta.pk is not None
    pk, status = quote(meta.pk.column), quote(meta.get_field("status").column)
    person_clause, person_params = column_in(person, sorted(people))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {petition}, {person}, {pk}, {status} FROM {quote(meta.db_table)} "  # noqa: S608
            f"WHERE {person_clause}",
            person_params,
        )
        return {
            (row[0], row[1]): (row[2], row[3]) for row in cursor.fetchall() if row[0] in petitions
        }


def _open_petitions(ids: set[int]) -> set[int]:
    """Which of these petitions are open. By hand: it runs in every batch of signatures,
    and the query compiler's work for it was a tenth of a one-signature batch."""
    meta, quote = Petition._meta, connection.ops.quote_name
    assert meta.pk is not None
    pk, status = quote(meta.pk.column), quote(meta.get_field("status").column)
    # Signing switched off (actions/switches.py) counts as not open.
    switch = quote(meta.get_field("signing_off").column)
    clause, params = column_in(pk, ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {pk} FROM {quote(meta.db_table)} "  # noqa: S608
            f"WHERE {clause} AND {status} = %s AND {switch} = %s",
            [*params, PetitionStatus.OPEN.value, False],
        )
        return {pk for (pk,) in cursor.fetchall()}


def _person_details(details: SignatureDetails) -> PersonDetails:
    return PersonDetails(
        email=details.email,
        first_name=details.first_name,
        last_name=details.last_name,
        postal_code=details.postal_code,
        country=details.country,
    )
