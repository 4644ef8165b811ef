"""The signing kill switch: `groundswell signing off|on [SLUG]`, for one petition or
all; a switched-off petition shows its count and a notice, and signs nothing, not even
from a form loaded before the switch."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from groundswell.members.models import AuditAction, AuditEntry
from groundswell.petitions.actions.signing import (
    PetitionNotOpen,
    SignatureDetails,
    do_sign_petition,
)
from groundswell.petitions.models import Petition, Signature
from tests.cast import make_petition
from tests.petitions.conftest import sign_data

pytestmark = pytest.mark.django_db


def signing(*args: str) -> str:
    out = StringIO()
    call_command("signing", *args, stdout=out)
    return out.getvalue()


class TestSigningSwitch:
    def test_it_switches_one_petition_off_and_on_with_audit_entries(
        self, petition: Petition
    ) -> None:
        other = make_petition("other-one", sponsors=list(petition.sponsors.all()))

        assert "Signing is off" in signing("off", petition.slug)

        petition.refresh_from_db()
        other.refresh_from_db()
        assert (petition.signing_off, other.signing_off) == (True, False)
        entry = AuditEntry.objects.get(action=AuditAction.SIGNING_SWITCHED_OFF)
        assert (entry.actor, entry.details["slug"]) == ("cli", petition.slug)

        signing("on", petition.slug)
        petition.refresh_from_db()
        assert not petition.signing_off
        assert AuditEntry.objects.filter(action=AuditAction.SIGNING_SWITCHED_ON).count() == 1

    def test_without_a_slug_it_switches_every_petition(self, petition: Petition) -> None:
        make_petition("other-one", sponsors=list(petition.sponsors.all()))
        signing("off")
        assert not Petition.objects.filter(signing_off=False).exists()
        signing("on")
        assert not Petition.objects.filter(signing_off=True).exists()

    def test_an_unknown_slug_is_an_error(self, petition: Petition) -> None:
        from django.core.management.base import CommandError

        with pytest.raises(CommandError):
            signing("off", "no-such-petition")


class TestSwitchedOffPetition:
    def test_its_page_shows_the_count_and_a_notice_instead_of_the_form(
        self, client: Client, petition: Petition
    ) -> None:
        signing("off", petition.slug)

        html = client.get(f"/sign/{petition.slug}/").content.decode()

        assert "Signing is paused" in html
        assert "This petition has 0 signatures" in html
        assert 'name="email"' not in html

    def test_a_post_is_refused_with_a_clear_message_and_nothing_stored(
        self, client: Client, petition: Petition
    ) -> None:
        client.get(f"/sign/{petition.slug}/")  # the form, loaded before the switch
        signing("off", petition.slug)

        response = client.post(f"/sign/{petition.slug}/", sign_data(petition))

        assert response.status_code == 400
        assert "Signing is paused" in response.content.decode()
        assert not Signature.objects.exists()

    def test_the_signature_writer_refuses_it_too(self, petition: Petition) -> None:
        # The page's copy of the petition, from before the switch.
        stale: Any = Petition.objects.get(pk=petition.pk)
        signing("off", petition.slug)

        with pytest.raises(PetitionNotOpen):
            do_sign_petition(
                stale,
                SignatureDetails(email="dora@example.org", first_name="Dora", last_name="X"),
            )
        assert not Signature.objects.exists()

    def test_it_signs_again_once_switched_on(self, client: Client, petition: Petition) -> None:
        signing("off", petition.slug)
        signing("on", petition.slug)
        assert client.post(f"/sign/{petition.slug}/", sign_data(petition)).status_code == 303
        assert Signature.objects.count() == 1
