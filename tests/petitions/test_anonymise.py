from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from groundswell.members.actions.consent import do_subscribe
from groundswell.members.models import Person
from groundswell.petitions.actions.signing import SignatureDetails, do_sign_petition
from groundswell.petitions.models import Petition, PetitionStatus, Signature
from tests.cast import make_person, make_petition

pytestmark = pytest.mark.django_db


def sign(petition: Petition, email: str, **fields) -> None:
    do_sign_petition(
        petition,
        SignatureDetails(email=email, first_name="A", last_name="B", comment="Because", **fields),
    )


def close(petition: Petition, days_ago: int) -> None:
    Petition.objects.filter(pk=petition.pk).update(
        status=PetitionStatus.CLOSED, closed_at=timezone.now() - timedelta(days=days_ago)
    )


class TestAnonymiseSignatures:
    def test_it_forgets_signers_of_long_closed_petitions_and_keeps_the_count(
        self, petition, open_press, capsys
    ):
        sign(petition, "charlie@example.org", show_name=True)
        sign(petition, "bob@example.org")
        bob = Person.objects.get(email_normalised="bob@example.org")
        do_subscribe(bob, open_press.default_list, source="t", wording="Yes")
        close(petition, days_ago=200)

        call_command("anonymise_signatures", "--months", "6")

        assert Signature.objects.filter(petition=petition).count() == 2
        assert not Signature.objects.filter(person__isnull=False).exists()
        assert set(Signature.objects.values_list("comment", "show_name")) == {("", False)}
        assert list(Person.objects.values_list("email_normalised", flat=True)) == [
            "bob@example.org"
        ]
        assert "Anonymised 2 signatures on 1 petitions" in capsys.readouterr().out

    def test_it_leaves_recent_and_open_petitions_alone(self, petition, open_press):
        recent = make_petition("recent", sponsors=[open_press])
        sign(petition, "charlie@example.org")
        sign(recent, "charlie@example.org")
        close(recent, days_ago=30)
        call_command("anonymise_signatures", "--months", "6")
        assert Signature.objects.filter(person__isnull=False).count() == 2

    def test_it_keeps_people_who_signed_something_else(self, petition, open_press):
        other = make_petition("other", sponsors=[open_press])
        sign(petition, "charlie@example.org")
        sign(other, "charlie@example.org")
        close(petition, days_ago=400)
        call_command("anonymise_signatures", "--months", "6")
        charlie = Person.objects.get(email_normalised="charlie@example.org")
        assert list(charlie.signatures.values_list("petition__slug", flat=True)) == ["other"]

    def test_it_removes_no_one_who_never_signed(self, petition):
        make_person("dana@example.org", source="import")
        close(petition, days_ago=400)
        call_command("anonymise_signatures")
        assert Person.objects.filter(email_normalised="dana@example.org").exists()
