"""The proof of work on signing (docs/security.md): the page carries a puzzle made for
this request, a solved one signs, and where the petition requires it a form sent
without a solution (as without JavaScript) is refused with the form kept and a
sentence saying JavaScript is needed; where it allows it, the form signs. A solution
signs once: replayed with other addresses it signs nobody."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from groundswell.lib.proof_of_work import is_solved, make_challenge, read_challenge, solve
from groundswell.petitions.models import Petition, Signature
from groundswell.petitions.pages import clear_page_cache
from tests.cast import make_person
from tests.lib.test_proof_of_work import DAY
from tests.petitions.conftest import sign_data
from tests.petitions.test_sign_defences import form_values

EASY_BITS = 8  # a few hundred hashes: the tests solve it in Python


@pytest.fixture
def easy_puzzles(settings: Any) -> None:
    settings.SIGN_PROOF_OF_WORK_BITS = EASY_BITS


def challenge_in(html: str) -> str:
    match = re.search(r'name="challenge" value="([^"]+)"', html)
    assert match, "the page carries no challenge"
    return match[1]


def solved_data(client: Client, petition: Petition, **fields: str) -> dict[str, str]:
    """What a browser with JavaScript sends: the form, and the page's puzzle solved
    for the address typed."""
    data = sign_data(petition, **fields)
    text = challenge_in(client.get(petition.get_absolute_url()).content.decode())
    challenge = read_challenge(text)
    assert challenge is not None
    return data | {"challenge": text, "solution": solve(challenge, data["email"])}


def require(petition: Petition) -> None:
    # As the editor saves it, and a few seconds later: the page made before is not
    # served again.
    Petition.objects.filter(pk=petition.pk).update(
        proof_of_work="require", updated_at=timezone.now()
    )
    clear_page_cache()


@pytest.mark.django_db
@pytest.mark.usefixtures("easy_puzzles")
class TestThePage:
    def test_it_carries_no_puzzle_while_proof_of_work_is_off(
        self, client: Client, petition: Petition
    ) -> None:
        html = client.get(petition.get_absolute_url()).content.decode()

        assert 'name="challenge"' not in html
        assert "proof-of-work.js" not in html

    def test_it_carries_a_puzzle_of_its_own_for_each_request(
        self, client: Client, petition: Petition
    ) -> None:
        require(petition)

        pages = [client.get(petition.get_absolute_url()).content.decode() for _ in range(2)]

        first, second = (read_challenge(challenge_in(html)) for html in pages)
        assert first is not None and second is not None
        assert first.salt != second.salt
        assert (first.subject, first.bits) == (petition.pk, EASY_BITS)
        assert '<script src="/static/js/proof-of-work.js" defer></script>' in pages[0]
        assert 'role="status"' in pages[0]

    def test_it_says_javascript_is_needed_where_the_petition_requires_it(
        self, client: Client, petition: Petition, settings: Any
    ) -> None:
        settings.SIGN_PROOF_OF_WORK = "allow"
        allowed = client.get(petition.get_absolute_url()).content.decode()
        require(petition)

        required = client.get(petition.get_absolute_url()).content.decode()

        assert "needs JavaScript" not in allowed
        assert re.search(r'<p class="pow-needs-js" data-pow-notice>[^<]*needs JavaScript', required)

    def test_the_site_s_setting_applies_where_the_petition_says_nothing(
        self, client: Client, petition: Petition, settings: Any
    ) -> None:
        settings.SIGN_PROOF_OF_WORK = "require"

        assert 'name="challenge"' in client.get(petition.get_absolute_url()).content.decode()

    def test_a_petition_may_turn_the_site_s_setting_off(
        self, client: Client, petition: Petition, settings: Any
    ) -> None:
        settings.SIGN_PROOF_OF_WORK = "require"
        Petition.objects.filter(pk=petition.pk).update(proof_of_work="off")

        html = client.get(petition.get_absolute_url()).content.decode()
        response = client.post(petition.get_absolute_url(), sign_data(petition))

        assert 'name="challenge"' not in html
        assert response.status_code == 303


@pytest.mark.django_db
@pytest.mark.usefixtures("easy_puzzles")
class TestRequired:
    def test_a_solved_puzzle_signs(self, client: Client, petition: Petition) -> None:
        require(petition)

        response = client.post(petition.get_absolute_url(), solved_data(client, petition))

        assert response.status_code == 303
        assert Signature.objects.get().person.email == "charlie@example.org"

    def test_a_form_without_a_solution_is_refused_keeping_what_was_typed(
        self, client: Client, petition: Petition
    ) -> None:
        require(petition)
        data = solved_data(client, petition, last_name="Stranger-Smith", postal_code="LS2 9JT")
        del data["solution"]

        response = client.post(petition.get_absolute_url(), data)

        assert response.status_code == 400
        html = response.content.decode()
        assert "Signing this petition needs JavaScript" in html
        values = form_values(html)
        assert (values["first_name"], values["last_name"]) == ("Charlie", "Stranger-Smith")
        assert (values["email"], values["postal_code"]) == ("charlie@example.org", "LS2 9JT")
        assert challenge_in(html) != data["challenge"]
        assert response["Cache-Control"] == "private, no-store"
        assert not Signature.objects.exists()

    @pytest.mark.parametrize(
        "change",
        [
            "another address",
            "a number that does not solve it",
            "another petition's puzzle",
            "an expired puzzle",
            "a forged puzzle",
            "an easier puzzle than the site asks",
        ],
    )
    def test_a_wrong_solution_is_refused(
        self, client: Client, petition: Petition, settings: Any, change: str
    ) -> None:
        require(petition)
        data = solved_data(client, petition)
        challenge = read_challenge(data["challenge"])
        assert challenge is not None
        if change == "another address":
            # One the solution does not happen to solve as well (1 in 2**EASY_BITS would).
            data["email"] = next(
                address
                for address in (f"someone.else{n}@example.org" for n in range(1000))
                if not is_solved(challenge, address, data["solution"])
            )
        elif change == "another petition's puzzle":
            data["challenge"] = make_challenge(petition.pk + 1, EASY_BITS, DAY)
        elif change == "an expired puzzle":
            data["challenge"] = make_challenge(petition.pk, EASY_BITS, -1)
        elif change == "a forged puzzle":
            data["challenge"] = data["challenge"][:-3] + "AAA"
        else:
            settings.SIGN_PROOF_OF_WORK_BITS = EASY_BITS + 1
        if change != "another address":
            # Solved, where it can be, so that only the change is wrong.
            other = read_challenge(data["challenge"])
            if other is not None and change != "an easier puzzle than the site asks":
                data["solution"] = solve(other, data["email"])
                if change == "a number that does not solve it":
                    data["solution"] = next(
                        str(n) for n in range(1000) if not is_solved(other, data["email"], str(n))
                    )

        response = client.post(petition.get_absolute_url(), data)

        assert response.status_code == 400
        assert "check before sending did not work out" in response.content.decode()
        assert form_values(response.content.decode())["email"] == data["email"]
        assert not Signature.objects.exists()

    def test_a_solution_replayed_with_other_addresses_signs_nobody_else(
        self, client: Client, petition: Petition
    ) -> None:
        require(petition)
        data = solved_data(client, petition)

        answers = [
            client.post(
                petition.get_absolute_url(),
                data | {"email": f"flood{n}@example.org", "first_name": f"Flood{n}"},
            ).status_code
            for n in range(30)
        ]
        # A number solving the puzzle for another address too is one in 2**8: exactly
        # those, and no other, sign.
        challenge = read_challenge(data["challenge"])
        assert challenge is not None
        lucky = [is_solved(challenge, f"flood{n}@example.org", data["solution"]) for n in range(30)]

        assert client.post(petition.get_absolute_url(), data).status_code == 303
        assert answers == [303 if solved else 400 for solved in lucky]
        assert Signature.objects.count() == 1 + sum(lucky)

    def test_the_same_solution_sent_again_signs_no_one_twice(
        self, client: Client, petition: Petition
    ) -> None:
        require(petition)
        data = solved_data(client, petition)

        answers = {client.post(petition.get_absolute_url(), data).status_code for _ in range(5)}

        assert answers == {303}
        assert Signature.objects.count() == 1

    def test_it_does_not_ask_a_recognised_member(self, client: Client, petition: Petition) -> None:
        from groundswell.lib.tokens import make_member_token

        require(petition)
        katy = make_person("katy@example.org", first_name="Katy")

        page = client.get(f"{petition.get_absolute_url()}?akid={make_member_token(katy.pk)}")
        response = client.post(
            petition.get_absolute_url(),
            {"akid": make_member_token(katy.pk), "postal_code": "LS2 9JT", "country": "GB"},
        )

        assert 'name="challenge"' not in page.content.decode()
        assert response.status_code == 303
        assert Signature.objects.get().person == katy


@pytest.mark.django_db
@pytest.mark.usefixtures("easy_puzzles")
class TestAllowed:
    @pytest.fixture(autouse=True)
    def allowed(self, petition: Petition) -> None:
        Petition.objects.filter(pk=petition.pk).update(proof_of_work="allow")

    def test_a_form_without_a_solution_signs(self, client: Client, petition: Petition) -> None:
        response = client.post(petition.get_absolute_url(), sign_data(petition))

        assert response.status_code == 303
        assert Signature.objects.count() == 1

    def test_a_solved_puzzle_signs(self, client: Client, petition: Petition) -> None:
        response = client.post(petition.get_absolute_url(), solved_data(client, petition))

        assert response.status_code == 303

    def test_a_wrong_solution_is_still_refused(self, client: Client, petition: Petition) -> None:
        data = solved_data(client, petition) | {"email": "someone.else@example.org"}

        response = client.post(petition.get_absolute_url(), data)

        assert response.status_code == 400
        assert not Signature.objects.exists()

    def test_the_other_defences_still_apply_without_a_solution(
        self, client: Client, petition: Petition
    ) -> None:
        response = client.post(
            petition.get_absolute_url(), sign_data(petition, website="https://spam.example/")
        )

        assert response.status_code == 400
        assert not Signature.objects.exists()


@pytest.mark.django_db
class TestInTheEditor:
    def test_staff_choose_a_petition_s_proof_of_work(self, open_press: Any) -> None:
        from tests.cast import staff_client
        from tests.workspace.test_petition_editor import petition_form

        carla = staff_client("carla", open_press)
        carla.post("/staff/petitions/new/", petition_form(open_press))
        url = "/staff/petitions/save-the-riverside-library/edit/"
        html = carla.get(url).content.decode()

        response = carla.post(url, petition_form(open_press, proof_of_work="require"))

        assert 'name="proof_of_work"' in html
        assert "The site&#x27;s default (now off)" in html
        assert response.status_code in (200, 302, 303)
        assert Petition.objects.get().proof_of_work == "require"
