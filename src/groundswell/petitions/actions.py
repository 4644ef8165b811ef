"""Every write to petitions and signatures happens here."""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from groundswell.lib.addresses import normalise_email
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


def _sponsors_with_lists(petition: Petition) -> list[tuple[Organisation, MailingList | None]]:
    sponsors = [s.organisation for s in petition.sponsorships.select_related("organisation")]
    lists = {
        ml.organisation_id: ml
        for ml in MailingList.objects.filter(organisation__in=sponsors, is_default=True)
    }
    return [(org, lists.get(org.pk)) for org in sponsors]


def do_sign_petition(
    petition: Petition, details: SignatureDetails, *, ip_address: str | None = None
) -> SignResult:
    """Sign once per email address; record consent per organisation as worded on the page.

    Raises ValidationError for an unusable email and PetitionNotOpen unless the
    petition is open. A second signature with the same address (any case or
    spacing) changes nothing and returns already_signed.
    """
    if petition.status != PetitionStatus.OPEN:
        raise PetitionNotOpen(petition.slug)
    normalised = normalise_email(details.email)
    source = f"petition:{petition.slug}"
    try:
        with transaction.atomic():
            # On SQLite the transaction is IMMEDIATE: signers queue here, one at a time.
            if Signature.objects.filter(
                petition=petition, person__email_normalised=normalised
            ).exists():
                raise _AlreadySigned
            person, _ = do_find_or_create_person(
                PersonDetails(
                    email=details.email,
                    first_name=details.first_name,
                    last_name=details.last_name,
                    postal_code=details.postal_code,
                    country=details.country,
                ),
                source=details.source or source,
            )
            referrer_id = read_referral_code(details.referral_code)
            if referrer_id is not None and (
                referrer_id == person.pk or not Person.objects.filter(pk=referrer_id).exists()
            ):
                referrer_id = None
            try:
                with transaction.atomic():
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
            _record_consent(petition, person, details, ip_address)
            transaction.on_commit(lambda: _enqueue_thank_you(signature.pk))
    except _AlreadySigned:
        return SignResult(already_signed=True)
    return SignResult(already_signed=False, signature=signature)


def _record_consent(
    petition: Petition, person: Person, details: SignatureDetails, ip_address: str | None
) -> None:
    if petition.consent_mode == ConsentMode.EXPLICIT and not details.consents:
        return
    sponsors = _sponsors_with_lists(petition)
    source = f"petition:{petition.slug}"
    if petition.consent_mode == ConsentMode.NOTICE:
        organisations = [org for org, _ in sponsors]
        wording = consent.recorded_wording(consent.notice_sentence(organisations), organisations)
        chosen = sponsors
    else:
        chosen = [(org, ml) for org, ml in sponsors if org.slug in details.consents]
    for org, mailing_list in chosen:
        if mailing_list is None:
            # A setup mistake must not lose the signature; no list means no mail is sent.
            logger.error("%s has no default mailing list; consent not recorded", org.slug)
            continue
        if petition.consent_mode != ConsentMode.NOTICE:
            wording = consent.recorded_wording(consent.explicit_sentence(org), [org])
        do_subscribe(person, mailing_list, source=source, wording=wording, ip_address=ip_address)


def _enqueue_thank_you(signature_id: int) -> None:
    from groundswell.petitions.tasks import send_thank_you_email

    send_thank_you_email.enqueue(signature_id)


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
