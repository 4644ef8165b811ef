from __future__ import annotations

import re

import pytest
from django.test import Client
from django.utils import timezone

from groundswell.members.models import ConsentEvent
from groundswell.orgs.models import Organisation
from groundswell.petitions.actions.signing import SignatureDetails, do_sign_petition
from groundswell.petitions.models import Petition, Signature
from tests.cast import make_petition
from tests.petitions.conftest import sign_data

URL = "/sign/cancel-the-contract/"


def csrf_token_in(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match, "no CSRF token in the form"
    return match[1]


@pytest.mark.django_db
class TestPetitionPage:
    def test_it_shows_the_petition(self, client: Client, petition: Petition) -> None:
        response = client.get(URL)

        assert response.status_code == 200
        html = response.content.decode()
        assert "<h1>Cancel the contract</h1>" in html
        assert "Petition to the leaders of Example Corp" in html
        assert "End every contract with the agency." in html
        assert "$19.4 million" in html
        # Footnotes link both ways.
        assert 'href="#fn1"' in html and 'id="fnref1"' in html and 'href="#fnref1"' in html

    def test_it_asks_each_sponsor_for_consent_with_an_unticked_box(
        self, client: Client, petition: Petition
    ) -> None:
        html = client.get(URL).content.decode()

        for slug, name in [
            ("open-press", "Open Press"),
            ("open-press-fund", "Open Press Action Fund"),
        ]:
            box = re.search(rf'<input type="checkbox" name="consent_{slug}"[^>]*>', html)
            assert box, slug
            assert "checked" not in box[0]
            assert f"let {name} email you updates" in html
            assert f'href="https://{slug}.example.org/privacy"' in html
        assert "You can unsubscribe at any time." in html
        assert html.index("consent_open-press") < html.index("Sign the petition</button>")

    def test_it_states_the_notice_instead_of_boxes_in_notice_mode(
        self, client: Client, open_press: Organisation
    ) -> None:
        make_petition(sponsors=[open_press], consent_mode="notice")

        html = client.get(URL).content.decode()

        assert "By signing, you agree that Open Press may email you updates" in html
        assert "consent_open-press" not in html

    def test_it_has_sharing_tags(self, client: Client, petition: Petition) -> None:
        html = client.get(URL).content.decode()

        assert '<meta property="og:title" content="Cancel the contract">' in html
        assert (
            '<meta property="og:url" content="http://testserver/sign/cancel-the-contract/">' in html
        )
        assert '<meta name="twitter:card"' in html

    def test_it_labels_every_field(self, client: Client, petition: Petition) -> None:
        html = client.get(URL).content.decode()

        for name in [
            "first_name",
            "last_name",
            "email",
            "postal_code",
            "country",
            "comment",
            "show_name",
        ]:
            assert f'<label for="id_{name}">' in html, name
            assert f'name="{name}"' in html

    def test_it_gives_each_visitor_their_own_csrf_token(self, petition: Petition) -> None:
        first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
        first_token = csrf_token_in(first.get(URL).content.decode())
        second_token = csrf_token_in(second.get(URL).content.decode())

        # The second page came from the per-process cache, yet signs with its own token.
        response = second.post(URL, {**sign_data(petition), "csrfmiddlewaretoken": second_token})

        assert response.status_code == 303
        assert first.cookies["csrftoken"].value != second.cookies["csrftoken"].value
        assert first_token != second_token
        assert response.get("Cache-Control") is None or "public" not in response["Cache-Control"]

    def test_it_is_never_stored_by_shared_caches(self, client: Client, petition: Petition) -> None:
        response = client.get(URL)

        assert "private" in response["Cache-Control"]

    def test_it_refuses_a_post_without_the_csrf_token(self, petition: Petition) -> None:
        response = Client(enforce_csrf_checks=True).post(URL, sign_data(petition))

        assert response.status_code == 403
        assert Signature.objects.count() == 0

    def test_it_carries_source_and_utm_into_the_form(
        self, client: Client, petition: Petition
    ) -> None:
        html = client.get(
            URL + "?source=newsletter&utm_campaign=ice&utm_medium=email",
            HTTP_REFERER="https://news.example.net/story",
        ).content.decode()

        assert '<input type="hidden" name="source" value="newsletter">' in html
        assert '<input type="hidden" name="utm_campaign" value="ice">' in html
        assert '<input type="hidden" name="utm_medium" value="email">' in html
        assert '<input type="hidden" name="referer" value="https://news.example.net/story">' in html

    def test_it_escapes_what_the_link_carries(self, client: Client, petition: Petition) -> None:
        html = client.get(URL + '?source="><script>alert(1)</script>').content.decode()

        assert "<script>alert(1)" not in html
        assert 'value="&quot;&gt;&lt;script&gt;' in html

    def test_it_shows_recent_signers_who_allowed_it(
        self, client: Client, petition: Petition
    ) -> None:
        for email, first, last, shown in [
            ("bob@example.org", "Bob", "member", True),
            ("dora@example.org", "Dora", "Hidden", False),
            ("dan@example.org", "דני", "לוי", True),
        ]:
            do_sign_petition(
                petition,
                SignatureDetails(
                    email=email, first_name=first, last_name=last, country="FR", show_name=shown
                ),
            )

        html = client.get(URL).content.decode()

        assert '<strong dir="auto">Bob M.</strong> <span dir="auto">France</span>' in html
        # A right-to-left name is set apart, so it does not carry the text after it
        # along with it.
        assert '<strong dir="auto">דני ל.</strong>' in html
        assert "Dora" not in html
        assert "bob@example.org" not in html

    def test_it_is_404_for_a_draft(self, client: Client, open_press: Organisation) -> None:
        make_petition(sponsors=[open_press], status="draft")

        assert client.get(URL).status_code == 404
        assert client.post(URL, {}).status_code == 404
        assert client.get(URL + "thanks/").status_code == 404
        assert client.get("/sign/cancel-the-contract.json").status_code == 404

    def test_it_is_404_for_an_unknown_petition(self, client: Client, db: None) -> None:
        assert client.get("/sign/nothing-here/").status_code == 404


@pytest.mark.django_db
class TestClosedPetition:
    @pytest.fixture
    def closed(self, petition: Petition, exact_counts: None) -> Petition:
        do_sign_petition(
            petition, SignatureDetails(email="bob@example.org", first_name="Bob", last_name="M")
        )
        petition.status = "closed"
        petition.closed_at = timezone.make_aware(timezone.datetime(2025, 3, 1, 12))
        petition.save()
        return petition

    def test_it_shows_the_final_count_and_no_form(self, client: Client, closed: Petition) -> None:
        html = client.get(URL).content.decode()

        assert "This petition is closed" in html
        assert "It closed on 1 March 2025 with 1 signature." in html
        assert "<form" not in html
        assert "csrfmiddlewaretoken" not in html

    def test_it_takes_no_signature(self, client: Client, closed: Petition) -> None:
        response = client.post(URL, sign_data(closed))

        assert response.status_code == 400
        assert Signature.objects.count() == 1


@pytest.mark.django_db
class TestSigning:
    def test_it_signs_and_sees_other(self, client: Client, petition: Petition) -> None:
        response = client.post(URL, {**sign_data(petition), "consent_open-press": "on"})

        assert response.status_code == 303
        assert response["Location"] == "/sign/cancel-the-contract/thanks/"
        signature = Signature.objects.select_related("person").get()
        assert signature.person.email == "charlie@example.org"
        assert ConsentEvent.objects.get().ip_address == "127.0.0.1"

    def test_it_stores_the_attribution_from_the_form(
        self, client: Client, petition: Petition
    ) -> None:
        client.post(
            URL,
            {
                **sign_data(petition),
                "source": "newsletter",
                "utm_source": "mail",
                "utm_campaign": "x" * 300,
                "referer": "javascript:alert(1)",
            },
        )

        signature = Signature.objects.get()
        assert signature.source == "newsletter"
        assert signature.utm_source == "mail"
        assert signature.utm_campaign == "x" * 100
        assert signature.http_referer == ""

    def test_it_names_every_problem_and_keeps_what_was_typed(
        self, client: Client, petition: Petition
    ) -> None:
        response = client.post(
            URL,
            sign_data(
                petition, first_name="", email="charlie-at-example", country="", comment="Hi"
            ),
        )

        assert response.status_code == 400
        html = response.content.decode()
        assert "<title>Error: Cancel the contract</title>" in html
        assert 'id="error-summary"' in html
        assert '<a href="#id_first_name">Enter your first name.</a>' in html
        assert '<a href="#id_country">Choose your country.</a>' in html
        assert 'id="id_email-error"' in html
        assert "Enter an email address like name@example.org." in html
        email_input = re.search(r'<input type="email"[^>]*>', html)
        assert email_input is not None
        assert 'value="charlie-at-example"' in email_input[0]
        assert 'aria-invalid="true"' in email_input[0]
        assert 'aria-describedby="id_email-error"' in email_input[0]
        assert 'value="Stranger"' in html
        assert ">\nHi</textarea>" in html
        assert Signature.objects.count() == 0

    def test_it_keeps_a_ticked_box_ticked_after_an_error(
        self, client: Client, petition: Petition
    ) -> None:
        html = client.post(
            URL, sign_data(petition, email="", **{"consent_open-press-fund": "on"})
        ).content.decode()

        box = re.search(r'<input type="checkbox" name="consent_open-press-fund"[^>]*>', html)
        assert box is not None and "checked" in box[0]

    def test_it_keeps_the_attribution_after_an_error(
        self, client: Client, petition: Petition
    ) -> None:
        html = client.post(
            URL, {**sign_data(petition, email=""), "source": "flyer"}
        ).content.decode()

        assert '<input type="hidden" name="source" value="flyer">' in html

    def test_it_does_not_need_postal_code_or_country_when_the_petition_does_not(
        self, client: Client, open_press: Organisation
    ) -> None:
        petition = make_petition(
            sponsors=[open_press], require_postal_code=False, require_country=False
        )

        response = client.post(URL, sign_data(petition, postal_code="", country=""))

        assert response.status_code == 303

    def test_it_rejects_an_unknown_country(self, client: Client, petition: Petition) -> None:
        response = client.post(URL, sign_data(petition, country="XX"))

        assert response.status_code == 400

    def test_it_thanks_a_repeat_signer_as_anyone_and_reveals_nothing_more(
        self, client: Client, petition: Petition
    ) -> None:
        client.post(URL, sign_data(petition, comment="first"))

        other_browser = Client()
        response = other_browser.post(URL, sign_data(petition, email=" Charlie@EXAMPLE.org"))
        assert response.status_code == 303
        html = other_browser.get(response["Location"]).content.decode()

        # Whether the address had signed is for its owner to learn, by email
        # (tests/petitions/test_repeat_signing_privacy.py).
        assert "Thank you for signing" in html
        assert "already" not in html
        assert "first" not in html
        assert "charlie" not in html.lower()
        assert Signature.objects.count() == 1


@pytest.mark.django_db
class TestHomePage:
    def test_it_lists_open_petitions_only(self, client: Client, open_press: Organisation) -> None:
        make_petition("open-one", sponsors=[open_press], title="Open one")
        make_petition("draft-one", sponsors=[open_press], title="Draft one", status="draft")
        make_petition("closed-one", sponsors=[open_press], title="Closed one", status="closed")

        html = client.get("/").content.decode()

        assert '<a href="/sign/open-one/">Open one</a>' in html
        assert "Draft one" not in html
        assert "Closed one" not in html
