from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from groundswell.petitions.models import Petition, PetitionSponsor, Signature
from tests.cast import make_bob, make_org, make_person, make_petition


@pytest.fixture
def worms(db):
    return make_petition("save-the-worms", sponsors=[make_org()], status=None)


@pytest.fixture
def bob(db):
    return make_bob()


class TestSignature:
    def test_a_person_signs_a_petition_once(self, worms, bob):
        Signature.objects.create(petition=worms, person=bob, source="email")
        with pytest.raises(IntegrityError), transaction.atomic():
            Signature.objects.create(petition=worms, person=bob, source="facebook")
        assert worms.signatures.count() == 1

    def test_a_person_may_sign_different_petitions(self, worms, bob):
        moles = make_petition("save-the-moles", sponsors=[make_org("Moles", "moles")])
        Signature.objects.create(petition=worms, person=bob)
        Signature.objects.create(petition=moles, person=bob)
        assert bob.signatures.count() == 2

    def test_it_is_valid_until_invalidated(self, worms, bob):
        signature = Signature.objects.create(petition=worms, person=bob)
        signature.refresh_from_db()
        assert (signature.status, signature.invalidated_at) == ("valid", None)

    def test_a_signed_petition_cannot_be_deleted(self, worms, bob):
        Signature.objects.create(petition=worms, person=bob)
        with pytest.raises(ProtectedError):
            worms.delete()

    def test_newest_signatures_come_first(self, worms, bob):
        first = Signature.objects.create(petition=worms, person=bob)
        second = Signature.objects.create(petition=worms, person=make_person("c@example.net"))
        assert list(worms.signatures.all()) == [second, first]


class TestPetition:
    def test_its_slug_is_unique(self, worms):
        with pytest.raises(IntegrityError), transaction.atomic():
            Petition.objects.create(slug="save-the-worms", title="x", target="y", statement="z")

    def test_it_starts_as_a_draft_and_lives_at_its_slug(self, worms):
        assert worms.status == "draft"
        assert worms.get_absolute_url() == "/sign/save-the-worms/"

    def test_its_sponsors_keep_their_order(self, db):
        a, b, c = (
            make_org("Alpha", "alpha"),
            make_org("Bravo", "bravo"),
            make_org("Charlie", "charlie"),
        )
        petition = make_petition("coalition", sponsors=[c, a, b])
        ordered = [s.organisation for s in petition.sponsorships.all()]
        assert ordered == [c, a, b]

    def test_an_organisation_sponsors_a_petition_once(self, worms):
        org = worms.sponsorships.get().organisation
        with pytest.raises(IntegrityError), transaction.atomic():
            PetitionSponsor.objects.create(petition=worms, organisation=org, position=5)
