"""Signers' comments: Ruth's comment shows on the public page because she chose to be
shown among recent signers; an abusive one is hidden by Olga (campaigner of the lead
sponsor) from the page and the delivery, with an audit entry, and can be shown again.
A partner's viewer reads no comments and hides none."""

from __future__ import annotations

import pytest
from django.test import Client

from groundswell.members.models import AuditAction, AuditEntry
from groundswell.orgs.models import Organisation
from groundswell.petitions.counter import clear_process_cache
from groundswell.petitions.models import Petition, Signature
from groundswell.petitions.pages import clear_page_cache
from tests.cast import make_person, make_petition, staff_client

pytestmark = pytest.mark.django_db

KIND = "Libraries kept my family reading."
ABUSE = "Everyone at the council is a crook, ring 07700 900123"


def sign(petition: Petition, email: str, first: str, comment: str) -> Signature:
    person = make_person(email, first, "Reader", country="GB")
    return Signature.objects.create(
        petition=petition, person=person, comment=comment, show_name=True
    )


def public_page(petition: Petition) -> str:
    # Forget what this process holds of earlier pages and petitions (another test's
    # petition had the same slug).
    clear_process_cache()
    clear_page_cache()
    return Client().get(f"/sign/{petition.slug}/").content.decode()


class TestComments:
    def test_a_signer_shown_among_recent_signers_shows_their_comment(
        self, petition: Petition
    ) -> None:
        sign(petition, "ruth@example.org", "Ruth", KIND)
        page = public_page(petition)
        assert "Ruth R." in page
        assert KIND in page

    def test_staff_hide_an_abusive_comment_from_the_page_and_the_delivery(
        self, petition: Petition, open_press: Organisation
    ) -> None:
        sign(petition, "ruth@example.org", "Ruth", KIND)
        troll = sign(petition, "troll@example.org", "Trevor", ABUSE)
        olga = staff_client("olga", open_press)
        dashboard = olga.get(f"/staff/petitions/{petition.slug}/")
        assert [c["comment"] for c in dashboard.context["comments"]] == [ABUSE, KIND]
        assert ABUSE in public_page(petition)

        hidden = olga.post(
            f"/staff/petitions/{petition.slug}/comments/{troll.pk}/hide/", {"hidden": "1"}
        )
        assert hidden.status_code == 302
        page = public_page(petition)
        assert ABUSE not in page
        assert "Trevor R." in page  # the signature still counts and shows
        assert KIND in page
        response = olga.get(f"/staff/petitions/{petition.slug}/delivery.csv")
        delivery = b"".join(response.streaming_content).decode()
        assert ABUSE not in delivery
        assert KIND in delivery
        entry = AuditEntry.objects.get(action=AuditAction.COMMENT_HIDDEN)
        assert entry.details["signature"] == troll.pk
        assert entry.organisation == open_press
        dashboard = olga.get(f"/staff/petitions/{petition.slug}/")
        assert dashboard.context["comments"][0]["hidden"] is True

        olga.post(f"/staff/petitions/{petition.slug}/comments/{troll.pk}/hide/", {"hidden": "0"})
        assert ABUSE in public_page(petition)
        assert AuditEntry.objects.filter(action=AuditAction.COMMENT_SHOWN).count() == 1

    def test_a_partner_neither_reads_nor_hides_the_comments(
        self, petition: Petition, action_fund: Organisation
    ) -> None:
        troll = sign(petition, "troll@example.org", "Trevor", ABUSE)
        partner = staff_client("pat", action_fund)
        dashboard = partner.get(f"/staff/petitions/{petition.slug}/")
        assert dashboard.status_code == 200
        assert dashboard.context["comments"] is None
        assert ABUSE not in dashboard.content.decode()
        refused = partner.post(f"/staff/petitions/{petition.slug}/comments/{troll.pk}/hide/")
        assert refused.status_code == 404
        troll.refresh_from_db()
        assert troll.comment_hidden_at is None

    def test_a_signature_of_another_petition_is_not_found(
        self, petition: Petition, open_press: Organisation
    ) -> None:
        other = make_petition("other", sponsors=[open_press])
        troll = sign(other, "troll@example.org", "Trevor", ABUSE)
        olga = staff_client("olga", open_press)
        url = f"/staff/petitions/{petition.slug}/comments/{troll.pk}/hide/"
        assert olga.post(url).status_code == 404
        assert olga.get(url).status_code == 405
