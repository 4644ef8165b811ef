"""Every write to petitions and signatures happens here."""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tasks_db import DatabaseBackend

from groundswell.lib.addresses import normalise_email
from groundswell.lib.db import savepoint_for_races
from groundswell.members.actions import (
    PersonDetails,
    do_delete_people_without_purpose,
    do_find_or_create_person,
    do_subscribe,
)
from groundswell.members.models import Person
from groundswell.orgs.models import MailingList, Organisation
from groundswell.petitions import consent
from groundswell.petitions.models import (
    ConsentMode,
    Petition,
    PetitionStatus,
    Signature,
)
from groundswell.petitions.referrals import read_referral_code

logger = logging.getLogger(__name__)


class PetitionNotOpen(Exception):
    """Only open petitions take signatures."""


@dataclass(frozen=True)
class SignatureDetails:
    email: str
    first_name: str
    last_name: str
    postal_code: str = ""
    country: str = ""
    comment: str = ""
    show_name: bool = False
    # Slugs of the organisations whose consent box was ticked (explicit mode).
    consents: Collection[str] = field(default_factory=frozenset)
    source: str = ""
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    utm_term: str = ""
    utm_content: str = ""
    referral_code: str = ""
    http_referer: str = ""
    # Set when the signer arrived by a member link from a mailing (tracked link `t`).
    mailing_id: int | None = None
    link_number: int | None = None


@dataclass(frozen=True)
class SignResult:
    already_signed: bool
    signature: Signature | None = None

    @property
    def person(self) -> Person | None:
        return self.signature.person if self.signature else None


class _AlreadySigned(Exception):
    pass


SponsorLists = Sequence[tuple[Organisation, MailingList | None]]


def do_sign_petition(
    petition: Petition,
    details: SignatureDetails,
    *,
    ip_address: str | None = None,
    sponsor_lists: SponsorLists | None = None,
) -> SignResult:
    """Sign once per email address; record consent per organisation as worded on the page.

    Raises ValidationError for an unusable email and PetitionNotOpen unless the
    petition is open. A second signature with the same address (any case or
    spacing) changes nothing and returns already_signed.

    `sponsor_lists` is petition.sponsors_with_lists() as the signer's form was built
    from it (the page caches it for a few seconds); it is read here when not given.
    """
    normalise_email(details.email)  # a ValidationError before anything else
    # Read afresh, not from the caller's copy: a petition closed a moment ago takes
    # no more signatures. Outside the transaction, so not under SQLite's write lock.
    if not Petition.objects.filter(pk=petition.pk, status=PetitionStatus.OPEN).exists():
        raise PetitionNotOpen(petition.slug)
    if sponsor_lists is None:
        sponsor_lists = petition.sponsors_with_lists()
    # Everything that needs no database is worked out before taking the write lock.
    consents = _consents_to_record(petition, sponsor_lists, details)
    referrer_id = read_referral_code(details.referral_code)
    if referrer_id is not None and not Person.objects.filter(pk=referrer_id).exists():
        referrer_id = None
    source = f"petition:{petition.slug}"
    try:
        with transaction.atomic():
            # On SQLite the transaction is IMMEDIATE: signers queue here, one at a time,
            # so everything below runs as few statements as it can.
            person, created = do_find_or_create_person(
                PersonDetails(
                    email=details.email,
                    first_name=details.first_name,
                    last_name=details.last_name,
                    postal_code=details.postal_code,
                    country=details.country,
                ),
                source=details.source or source,
            )
            # Someone new cannot have signed; anyone else may have. Raising rolls back
            # any blanks just filled in on their record.
            if not created and Signature.objects.filter(petition=petition, person=person).exists():
                raise _AlreadySigned
            if referrer_id == person.pk:
                referrer_id = None  # nobody refers themselves
            try:
                with savepoint_for_races():
                    signature = Signature.objects.create(
                        petition=petition,
                        person=person,
                        comment=details.comment.strip(),
                        show_name=details.show_name,
                        source=details.source[:100],
                        referrer_id=referrer_id,
                        http_referer=details.http_referer[:500],
                        utm_source=details.utm_source[:100],
                        utm_medium=details.utm_medium[:100],
                        utm_campaign=details.utm_campaign[:100],
                        utm_term=details.utm_term[:100],
                        utm_content=details.utm_content[:100],
                        mailing_id=details.mailing_id or None,
                        link_number=details.link_number,
                    )
            except IntegrityError:
                # PostgreSQL: the same address signed in another transaction that
                # committed while we waited on the unique constraint.
                if Signature.objects.filter(petition=petition, person=person).exists():
                    raise _AlreadySigned from None
                raise
            for mailing_list, wording in consents:
                do_subscribe(
                    person, mailing_list, source=source, wording=wording, ip_address=ip_address
                )
            _enqueue_thank_you(signature.pk)
    except _AlreadySigned:
        return SignResult(already_signed=True)
    return SignResult(already_signed=False, signature=signature)


def _consents_to_record(
    petition: Petition, sponsor_lists: SponsorLists, details: SignatureDetails
) -> list[tuple[MailingList, str]]:
    """Each list the signer joins, with the wording they were shown for it."""
    if petition.consent_mode == ConsentMode.NOTICE:
        organisations = [org for org, _ in sponsor_lists]
        notice = consent.recorded_wording(consent.notice_sentence(organisations), organisations)
        chosen = [(org, ml, notice) for org, ml in sponsor_lists]
    else:
        chosen = [
            (org, ml, consent.recorded_wording(consent.explicit_sentence(org), [org]))
            for org, ml in sponsor_lists
            if org.slug in details.consents
        ]
    consents = []
    for org, mailing_list, wording in chosen:
        if mailing_list is None:
            # A setup mistake must not lose the signature; no list means no mail is sent.
            logger.error("%s has no default mailing list; consent not recorded", org.slug)
            continue
        consents.append((mailing_list, wording))
    return consents


def _enqueue_thank_you(signature_id: int) -> None:
    """Queue the thank-you email so that it exists exactly when the signature does.

    The database backend's queue is a table in this database: its row is written in
    the signer's transaction and commits (or rolls back) with the signature. That
    also saves a second commit per signature, and no thank-you is lost to a crash
    between the commit and the enqueue. Any other backend runs or ships the task at
    once (the immediate one in tests), so it must wait for the commit.
    """
    from groundswell.petitions.tasks import send_thank_you_email

    if isinstance(send_thank_you_email.get_backend(), DatabaseBackend):
        send_thank_you_email.enqueue(signature_id)
    else:
        transaction.on_commit(lambda: send_thank_you_email.enqueue(signature_id))


def do_anonymise_closed_petitions(*, months: int, actor: str) -> dict[str, int]:
    """Forget who signed petitions closed more than `months` ago.

    Signatures stay, so counts stay right, but lose their signer, comment and
    referring page. A person left with no signature and no subscription is
    removed: we have no reason to keep them.
    """
    cutoff = timezone.now() - timedelta(days=30 * months)
    petitions = list(
        Petition.objects.filter(status=PetitionStatus.CLOSED, closed_at__lt=cutoff).values_list(
            "pk", flat=True
        )
    )
    with transaction.atomic():
        signatures = Signature.objects.filter(petition_id__in=petitions, person__isnull=False)
        people = set(signatures.values_list("person_id", flat=True))
        anonymised = signatures.update(
            person=None,
            comment="",
            show_name=False,
            http_referer="",
            referrer=None,
            anonymised_at=timezone.now(),
        )
        removed = do_delete_people_without_purpose(people, actor=actor)
    return {"petitions": len(petitions), "signatures": anonymised, "people_removed": removed}
