"""A person's signatures in a copy of their data, on erasure, and on a merge of two
people (registered with members/privacy.py in apps.py)."""

from __future__ import annotations

from groundswell.members.models import Person
from groundswell.petitions.models import Signature, SignatureStatus
from groundswell.petitions.tally.follow import tallies_follow


def export_person(person: Person) -> dict[str, list[dict[str, object]]]:
    signatures = (
        Signature.objects.filter(person=person).select_related("petition").order_by("created_at")
    )
    return {
        "signatures": [
            {
                "petition": sig.petition.title,
                "signed_at": sig.created_at.isoformat(),
                "comment": sig.comment,
                "name_shown_publicly": sig.show_name,
                "source": sig.source,
                "status": sig.status,
            }
            for sig in signatures
        ]
    }


def forget_person(person: Person) -> dict[str, int]:
    """Signatures stay, so counts stay right, without anything that points back.
    One still waiting for confirmation by email never counted: it goes, with the
    consent and address kept for its confirmation."""
    _, deleted = Signature.objects.filter(person=person, status=SignatureStatus.PENDING).delete()
    pending = deleted.get(Signature._meta.label, 0)
    signatures = Signature.objects.filter(person=person)
    ids = list(signatures.values_list("pk", flat=True))
    # The dashboard's tallies counted the signer's country and region: they follow.
    with tallies_follow(ids):
        signatures.update(
            person=None,
            comment="",
            show_name=False,
            http_referer="",
            referrer=None,
            client_network="",
            email_domain="",
        )
    count = len(ids)
    Signature.objects.filter(referrer=person).update(referrer=None)
    return {"signatures_anonymised": count, "unconfirmed_signatures_deleted": pending}


def merge_people(keep: Person, other: Person) -> dict[str, int]:
    """`other`'s signatures become `keep`'s; a petition both signed counts once."""
    moved = {"signatures": 0, "duplicate_signatures": 0}
    signed = set(Signature.objects.filter(person=keep).values_list("petition_id", flat=True))
    # A pending duplicate never counted: it goes, with what it kept for its confirmation.
    Signature.objects.filter(
        person=other, status=SignatureStatus.PENDING, petition_id__in=signed
    ).delete()
    theirs = list(Signature.objects.filter(person=other))
    with tallies_follow([signature.pk for signature in theirs]):
        _move_signatures(theirs, keep, signed, moved)
    Signature.objects.filter(referrer=other).update(referrer=keep)
    return moved


def _move_signatures(
    theirs: list[Signature], keep: Person, signed: set[int], moved: dict[str, int]
) -> None:
    for signature in theirs:
        if signature.petition_id in signed:
            # The other row stays as an invalidated, anonymous record rather than
            # disappearing.
            signature.status = SignatureStatus.INVALIDATED
            signature.invalidated_reason = "merged duplicate"
            signature.person = None
            moved["duplicate_signatures"] += 1
        else:
            signature.person = keep
        moved["signatures"] += 1
        signature.save()
