"""Two people become one (an address changed to another member's): the signatures of
both stay, and a petition both signed counts once."""

from __future__ import annotations

import pytest

from groundswell.members.actions.profile import do_change_email
from groundswell.members.models import AuditEntry, Person
from groundswell.petitions.actions.signing import SignatureDetails, do_sign_petition
from groundswell.petitions.models import Petition, Signature, SignatureStatus
from tests.cast import make_org, make_petition

pytestmark = pytest.mark.django_db

SLUGS = ("rivers", "forests", "oceans")


def sign(petition: Petition, email: str) -> Person:
    details = SignatureDetails(email=email, first_name="Katy", last_name="Lindqvist")
    return Person.objects.get(pk=do_sign_petition(petition, details).person_id)


def test_the_other_persons_signatures_move_and_a_petition_both_signed_counts_once() -> None:
    org = make_org("Open Press", "open-press")
    rivers, forests, oceans = (make_petition(slug, sponsors=[org]) for slug in SLUGS)
    katy = sign(rivers, "katy@example.org")
    sign(forests, "katy@example.org")
    work = sign(forests, "katy@work.example")
    sign(oceans, "katy@work.example")

    do_change_email(katy, "katy@work.example", actor="self")

    assert not Person.objects.filter(pk=work.pk).exists()
    valid = Signature.objects.filter(status=SignatureStatus.VALID)
    assert sorted(valid.values_list("petition__slug", "person_id")) == [
        ("forests", katy.pk),
        ("oceans", katy.pk),
        ("rivers", katy.pk),
    ]
    duplicate = Signature.objects.get(status=SignatureStatus.INVALIDATED)
    assert (duplicate.petition.slug, duplicate.person_id) == ("forests", None)
    assert duplicate.invalidated_reason == "merged duplicate"
    merged = AuditEntry.objects.get(action="email-changed").details["merged"]
    assert (merged["signatures"], merged["duplicate_signatures"]) == (2, 1)
