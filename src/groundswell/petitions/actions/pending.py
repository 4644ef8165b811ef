"""What a signature is before it is written, and what writing it gave: the form's
details, a signature prepared for the writer (which may be another process: to_wire),
and its result. Writing them: actions/signing.py."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from groundswell.members.models import Person
from groundswell.orgs.models import MailingList, Organisation
from groundswell.petitions.defences import OverLimit
from groundswell.petitions.models import Petition, Signature


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
    # A recognised member's one-click signature, by the id their link carries: the
    # writer reads them with its batch (actions/members.py); email and names are blank.
    member_id: int | None = None
    # For one by id: details their record must hold (forms.required_of_members).
    member_requires: tuple[str, ...] = ()


# Every field is a str, int, bool or None, but consents (a set of str) and
# member_requires (a tuple of str).
_DETAIL_FIELDS = tuple(f.name for f in fields(SignatureDetails))


@dataclass(frozen=True)
class SignResult:
    already_signed: bool
    signature: Signature | None = None
    # The petition was not open when the signature was to be written: nothing written.
    not_open: bool = False
    # Who signed, when this call wrote the signature (also when written by another
    # process, which cannot hand over the Signature itself).
    person_id: int | None = None
    # Whose address it is, whether this call signed or it had been signed before: the
    # thanks page must look the same either way (docs/security.md).
    signer_id: int | None = None
    # Refused for now by a rate limit (petitions/defences.py): nothing written.
    over_limit: OverLimit | None = None
    # A signature by member id whose member is gone, or lacks a detail the petition
    # requires: nothing written (the view reads the member, and asks).
    member_not_ready: bool = False

    @property
    def person(self) -> Person | None:
        return self.signature.person if self.signature else None


SponsorLists = Sequence[tuple[Organisation, MailingList | None]]


@dataclass(frozen=True)
class PendingSignature:
    """A signature worked out as far as it can be without the database: what
    do_sign_petitions writes, alone or together with others."""

    petition: Petition
    details: SignatureDetails
    normalised_email: str
    # Each list the signer joins, with the wording they were shown for it.
    consents: list[tuple[MailingList, str]]
    referrer_id: int | None
    ip_address: str | None
    # The rate limits it is counted under (defences.counted_under): the petition's
    # rules written out, and the value of each key that has one ("" and {}: none).
    limits: str = ""
    counted: dict[str, str] = field(default_factory=dict)
    # Written pending, its consent kept until the signer confirms by email
    # (defences.confirms_by_email, actions/confirming.py).
    confirm: bool = False

    def to_wire(self) -> dict[str, Any]:
        """Plain data for another process (petitions/writer_service.py): only what
        do_sign_petitions reads of the petition and the lists."""
        return {
            "petition": [self.petition.pk, self.petition.slug],
            "details": {name: getattr(self.details, name) for name in _DETAIL_FIELDS}
            | {
                "consents": sorted(self.details.consents),
                "member_requires": list(self.details.member_requires),
            },
            "email": self.normalised_email,
            "consents": [[mailing_list.pk, wording] for mailing_list, wording in self.consents],
            "referrer": self.referrer_id,
            "ip": self.ip_address,
            "limits": self.limits,
            "counted": self.counted,
            "confirm": self.confirm,
        }

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> PendingSignature:
        petition_id, slug = data["petition"]
        details = dict(data["details"])
        details["consents"] = frozenset(details["consents"])
        details["member_requires"] = tuple(details.get("member_requires", ()))
        return cls(
            petition=Petition(pk=int(petition_id), slug=str(slug)),
            details=SignatureDetails(**details),
            normalised_email=str(data["email"]),
            consents=[(MailingList(pk=int(pk)), str(wording)) for pk, wording in data["consents"]],
            referrer_id=None if data["referrer"] is None else int(data["referrer"]),
            ip_address=None if data["ip"] is None else str(data["ip"]),
            limits=str(data.get("limits", "")),
            counted={str(k): str(v) for k, v in dict(data.get("counted", {})).items()},
            confirm=bool(data.get("confirm", False)),
        )
