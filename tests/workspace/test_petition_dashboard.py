"""The petition dashboard: every sponsor sees the total; each sees by name only the
signers who chose it; a viewer sees figures only; everyone else gets 404."""

from __future__ import annotations

import pytest
from django.test import Client

from groundswell.orgs.models import Organisation, Role
from groundswell.petitions.counter import petition_count
from groundswell.petitions.models import Petition, Signature
from tests.cast import default_list, make_org, make_person, make_petition, staff_client, subscribe

pytestmark = pytest.mark.django_db


@pytest.fixture
def coalition(open_press: Organisation, action_fund: Organisation) -> Petition:
    """Cancel the contract, sponsored by both: Ann chose Open Press, Ben the Fund,
    Cat neither."""
    petition = make_petition(sponsors=[open_press, action_fund])
    for name, org in [("ann", open_press), ("ben", action_fund), ("cat", None)]:
        person = make_person(f"{name}@example.org", name.title(), "Signer", postal_code="N1 9GU")
        if org is not None:
            subscribe(person, default_list(org))
        Signature.objects.create(petition=petition, person=person, comment=f"{name} says hi")
    return petition


class TestPetitionDashboard:
    def test_it_shows_a_sponsor_the_total_and_only_its_own_consenting_signers(
        self, coalition: Petition, open_press: Organisation
    ):
        page = staff_client("olga", open_press).get(f"/staff/petitions/{coalition.slug}/")
        text = page.content.decode()
        assert page.status_code == 200
        assert "Ann Signer" in text
        assert "Ben Signer" not in text and "Cat Signer" not in text
        assert "2 more signed without choosing your organisation" in text

    def test_it_ranks_postal_regions_and_new_members_with_a_bar_each(
        self, coalition: Petition, open_press: Organisation
    ):
        page = staff_client("olga", open_press).get(f"/staff/petitions/{coalition.slug}/")
        assert page.context["top"]["by_region"] == [("N1", 3)]
        assert page.context["top"]["members"] == [("new members", 3), ("existing members", 0)]
        assert page.context["most"]["members"] == 3
        text = page.content.decode()
        assert 'id="regions"' in text
        assert '<progress class="bar" max="3" value="3" aria-hidden="true">' in text

    def test_it_shows_a_viewer_figures_but_no_one_by_name(
        self, coalition: Petition, action_fund: Organisation
    ):
        page = staff_client("vic", action_fund, Role.VIEWER).get(
            f"/staff/petitions/{coalition.slug}/"
        )
        text = page.content.decode()
        assert page.status_code == 200
        assert "Ann Signer" not in text and "Ben Signer" not in text and "says hi" not in text
        assert "Your role shows figures only" in text

    def test_it_answers_404_to_staff_of_an_organisation_that_is_not_a_sponsor(
        self, coalition: Petition
    ):
        other = make_org("Elsewhere", "elsewhere")
        client = staff_client("eve", other)
        assert client.get(f"/staff/petitions/{coalition.slug}/").status_code == 404
        assert client.get(f"/staff/petitions/{coalition.slug}/stats.json").status_code == 404
        assert client.get("/staff/petitions/no-such-petition/").status_code == 404

    def test_it_answers_404_to_a_user_without_any_role(self, coalition: Petition):
        assert staff_client("nobody", None).get("/staff/").status_code == 404

    def test_it_sends_a_visitor_who_is_not_signed_in_to_sign_in(self, coalition: Petition):
        response = Client().get(f"/staff/petitions/{coalition.slug}/")
        assert response.status_code == 302
        assert "next=" in response["Location"]

    def test_its_figures_total_is_the_public_count(
        self, coalition: Petition, action_fund: Organisation
    ):
        stats = (
            staff_client("fay", action_fund, Role.VIEWER)
            .get(f"/staff/petitions/{coalition.slug}/stats.json")
            .json()
        )
        assert stats["total"] == petition_count(coalition).count == 3
        for key in ("by_day", "by_hour", "by_source", "by_referrer", "by_country"):
            assert key in stats
        assert stats["new_members"] + stats["existing_members"] == 3

    def test_its_home_lists_only_the_users_petitions(
        self, coalition: Petition, open_press: Organisation
    ):
        other = make_org("Elsewhere", "elsewhere")
        make_petition("elsewhere-petition", sponsors=[other], title="Somewhere else")
        text = staff_client("olga", open_press).get("/staff/").content.decode()
        assert coalition.title in text
        assert "Somewhere else" not in text
