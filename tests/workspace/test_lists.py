"""Lists in the workspace: Carla (campaigner of Open Press) sees Open Press's lists and
how many are on each, adds someone she met at a stall with the words they agreed to,
and cannot touch the Fund's lists; a viewer cannot add anyone."""

from __future__ import annotations

import pytest

from groundswell.members.actions.consent import do_unsubscribe
from groundswell.members.models import ConsentEvent, Person
from groundswell.orgs.models import Organisation
from tests.cast import default_list, make_person, staff_client, subscribe

pytestmark = pytest.mark.django_db

WORDING = "Yes, Open Press may email me about the library."


def person_form(**changes: str) -> dict[str, str]:
    values = {
        "email": "Nadia@Example.org",
        "first_name": "Nadia",
        "last_name": "Nour",
        "postal_code": "LS6 1AA",
        "country": "gb",
        "consent_text": WORDING,
        "source": "library stall, 3 May",
    }
    values.update(changes)
    return values


class TestLists:
    def test_it_lists_the_organisation_s_lists_with_how_many_are_on_them(
        self, open_press: Organisation, action_fund: Organisation
    ) -> None:
        subscribe(make_person("ann@example.org"), default_list(open_press))
        page = staff_client("carla", open_press).get("/staff/lists/")
        assert page.status_code == 200
        [row] = page.context["lists"]
        assert (row.organisation, row.subscribed) == (open_press, 1)
        assert "Open Press Action Fund" not in page.content.decode()

    def test_a_campaigner_adds_someone_with_their_consent_recorded(
        self, open_press: Organisation
    ) -> None:
        url = f"/staff/lists/{default_list(open_press).pk}/add/"
        page = staff_client("carla", open_press).post(url, person_form())
        assert page.status_code == 200
        assert "Added to Supporters" in page.content.decode()
        nadia = Person.objects.get(email_normalised="nadia@example.org")
        assert (nadia.first_name, nadia.country) == ("Nadia", "GB")
        event = ConsentEvent.objects.get(subscription__person=nadia)
        assert (event.wording, event.source) == (WORDING, "import:library stall, 3 May")

    def test_its_form_asks_for_the_address_in_an_email_field(
        self, open_press: Organisation
    ) -> None:
        url = f"/staff/lists/{default_list(open_press).pk}/add/"
        page = staff_client("carla", open_press).get(url).content.decode()
        assert '<input type="email" name="email"' in page

    def test_it_says_what_is_wrong_and_adds_no_one(self, open_press: Organisation) -> None:
        url = f"/staff/lists/{default_list(open_press).pk}/add/"
        client = staff_client("carla", open_press)
        bad = client.post(url, person_form(email="nadia-at-example"))
        assert bad.status_code == 400
        missing = client.post(url, person_form(consent_text=""))
        assert missing.status_code == 400
        assert not Person.objects.exists()

    def test_another_organisation_s_list_and_a_viewer_get_404(
        self, open_press: Organisation, action_fund: Organisation
    ) -> None:
        theirs = f"/staff/lists/{default_list(action_fund).pk}/add/"
        assert staff_client("carla", open_press).post(theirs, person_form()).status_code == 404
        ours = f"/staff/lists/{default_list(open_press).pk}/add/"
        viewer = staff_client("vic", open_press, role="viewer")
        assert viewer.post(ours, person_form()).status_code == 404
        assert viewer.get("/staff/lists/").status_code == 404
        assert not Person.objects.exists()


def test_the_staff_menu_links_to_the_lists_for_campaigners_only(open_press: Organisation) -> None:
    assert (
        'href="/staff/lists/"' in staff_client("carla", open_press).get("/staff/").content.decode()
    )
    viewer = staff_client("vic", open_press, role="viewer").get("/staff/").content.decode()
    assert 'href="/staff/lists/"' not in viewer


class TestGrowth:
    def test_it_counts_who_joined_and_who_left_each_week(
        self, open_press: Organisation, action_fund: Organisation
    ) -> None:
        supporters = default_list(open_press)
        ann, ben = make_person("ann@example.org"), make_person("ben@example.org")
        subscribe(ann, supporters)
        subscribe(ben, supporters)
        do_unsubscribe(ben, supporters, source="test")
        subscribe(make_person("fay@example.org"), default_list(action_fund))
        page = staff_client("carla", open_press).get("/staff/lists/")
        [row] = page.context["rows"]
        assert len(row["weeks"]) == 12
        assert row["weeks"][-1] | {"week": ""} == {"week": "", "joined": 2, "left": 1}
        assert all((w["joined"], w["left"]) == (0, 0) for w in row["weeks"][:-1])
        [chart] = page.context["charts"]
        assert (chart["joined"][-1], chart["left"][-1]) == (2, 1)
        assert 'id="list-growth-data"' in page.content.decode()
