"""A member's link: "Not Katy? Click here.", one-click signing, attribution to the mailing."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from groundswell.lib.tokens import make_member_token
from groundswell.members.actions.consent import do_subscribe
from groundswell.members.models import ConsentEvent, Person
from groundswell.members.recognition import COOKIE
from groundswell.petitions.models import Petition, Signature
from tests.cast import make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def katy(open_press: Any) -> Person:
    person = make_person(
        "katy@example.org",
        "Katy",
        "Lindqvist",
        address="7 Orchard Row, Leeds",
        postal_code="LS1 4AP",
        country="GB",
    )
    do_subscribe(person, open_press.default_list, source="test", wording="Yes, Open Press.")
    return person


SECRETS = ("katy@example.org", "Lindqvist", "Orchard", "LS1 4AP")


def _per_visit_values_blanked(page: bytes) -> bytes:
    """The page without what differs by visit: the CSRF form token (by visitor) and
    the signed "shown at" stamp (by second)."""
    return re.sub(rb'(name="(?:csrfmiddlewaretoken|shown)" value=")[^"]+"', rb'\1"', page)


class TestRecognisedPage:
    def test_it_greets_the_member_by_first_name_only(self, client: Client, petition, katy):
        token = make_member_token(katy.pk, 29208)
        response = client.get(f"/sign/{petition.slug}/?akid={token}&t=7")
        assert response.status_code == 200
        content = response.content.decode()
        assert "Not Katy? Click here." in content
        for secret in SECRETS:
            assert secret not in content
        assert 'name="email"' not in content
        assert 'name="first_name"' not in content
        assert response["Cache-Control"] == "private, no-store"

    def test_it_offers_boxes_only_for_organisations_not_yet_consented(
        self, client: Client, petition, katy
    ):
        content = client.get(f"/sign/{petition.slug}/?akid={make_member_token(katy.pk)}").content
        assert b'name="consent_open-press-fund"' in content
        assert b'name="consent_open-press"' not in content

    def test_it_shows_each_member_their_own_name_and_consent_from_the_shared_page(
        self, client: Client, petition, katy
    ):
        bob = make_person("bob@example.org", "<b>Bob</b>", "Member", country="GB")
        katys = client.get(f"/sign/{petition.slug}/?akid={make_member_token(katy.pk)}")
        bobs = Client().get(f"/sign/{petition.slug}/?akid={make_member_token(bob.pk)}")
        katys_again = Client().get(f"/sign/{petition.slug}/?akid={make_member_token(katy.pk)}")

        bob_page = bobs.content.decode()
        assert "Not &lt;b&gt;Bob&lt;/b&gt;? Click here." in bob_page
        assert "Katy" not in bob_page
        assert 'name="consent_open-press"' in bob_page  # Bob has not consented; Katy has
        assert _per_visit_values_blanked(katys.content) == _per_visit_values_blanked(
            katys_again.content
        )
        assert b"Bob" not in katys_again.content

    def test_it_remembers_the_member_in_a_signed_httponly_cookie(
        self, client: Client, petition, katy
    ):
        response = client.get(f"/sign/{petition.slug}/?akid={make_member_token(katy.pk)}")
        cookie = response.cookies[COOKIE]
        assert cookie["httponly"]
        assert "Not Katy?" in client.get(f"/sign/{petition.slug}/").content.decode()

    def test_a_later_visitor_of_the_browser_is_greeted_but_never_given_the_token(
        self, client: Client, petition, katy
    ):
        token = make_member_token(katy.pk, 29208)
        client.get(f"/sign/{petition.slug}/?akid={token}")
        assert token not in client.cookies[COOKIE].value
        later = client.get(f"/sign/{petition.slug}/").content.decode()
        assert "Not Katy?" in later
        assert token not in later
        # One click still signs, known from the cookie, and still counts for the mailing.
        assert client.post(f"/sign/{petition.slug}/", {"akid": ""}).status_code == 303
        signature = Signature.objects.get()
        assert (signature.person, signature.mailing_id) == (katy, 29208)

    def test_a_cookie_from_before_still_recognises_without_showing_its_token(
        self, client: Client, petition, katy
    ):
        from groundswell.members.recognition import COOKIE_SALT

        token = make_member_token(katy.pk)
        response = client.get("/")
        response.set_signed_cookie(COOKIE, token, salt=COOKIE_SALT)
        client.cookies[COOKIE] = response.cookies[COOKIE].value
        page = client.get(f"/sign/{petition.slug}/").content.decode()
        assert "Not Katy?" in page and token not in page

    def test_not_me_forgets_the_member_and_shows_the_full_form(
        self, client: Client, petition, katy
    ):
        client.get(f"/sign/{petition.slug}/?akid={make_member_token(katy.pk)}")
        response = client.get(f"/sign/{petition.slug}/not-me/")
        assert response.status_code == 303
        assert response["Location"] == f"/sign/{petition.slug}/"
        content = client.get(f"/sign/{petition.slug}/").content.decode()
        assert "Not Katy?" not in content
        assert 'name="email"' in content

    @pytest.mark.parametrize(
        "token",
        ["garbage", "0.1.AAAAAAAAAAAAAAAA", "", "1.2", "0.999999.abcdefghijklmnop"],
    )
    def test_a_bad_token_gives_the_ordinary_page_without_a_hint(
        self, client: Client, petition, katy, token
    ):
        response = client.get(f"/sign/{petition.slug}/?akid={token}")
        assert response.status_code == 200
        content = response.content.decode()
        assert "Not Katy?" not in content
        assert 'name="email"' in content
        assert COOKIE not in response.cookies

    def test_a_tampered_token_gives_the_ordinary_page(self, client: Client, petition, katy):
        token = make_member_token(katy.pk)
        tampered = token[:-1] + ("B" if token[-1] == "A" else "A")
        content = client.get(f"/sign/{petition.slug}/?akid={tampered}").content.decode()
        assert "Not Katy?" not in content

    def test_opening_the_link_signs_nothing(self, client: Client, petition, katy):
        client.get(f"/sign/{petition.slug}/?akid={make_member_token(katy.pk)}")
        assert not Signature.objects.exists()


class TestOneClickSigning:
    def test_it_signs_with_one_click_and_records_the_mailing_and_link(
        self, client: Client, petition: Petition, katy
    ):
        token = make_member_token(katy.pk, 29208)
        response = client.post(f"/sign/{petition.slug}/", {"akid": token, "t": "7"})
        assert response.status_code == 303
        signature = Signature.objects.get()
        assert signature.person == katy
        assert (signature.mailing_id, signature.link_number) == (29208, 7)
        assert not ConsentEvent.objects.filter(source=f"petition:{petition.slug}").exists()

    def test_a_box_ticked_while_recognised_records_that_consent(
        self, client: Client, petition: Petition, katy
    ):
        client.post(
            f"/sign/{petition.slug}/",
            {"akid": make_member_token(katy.pk), "consent_open-press-fund": "on"},
        )
        event = ConsentEvent.objects.get(source=f"petition:{petition.slug}")
        assert event.subscription.mailing_list.organisation.slug == "open-press-fund"
        assert Signature.objects.get().mailing_id is None

    def test_a_tampered_token_in_the_form_is_an_ordinary_submission(
        self, client: Client, petition: Petition, katy
    ):
        token = make_member_token(katy.pk)
        response = client.post(f"/sign/{petition.slug}/", {"akid": token[:-2] + "zz"})
        assert response.status_code == 400
        assert b"Enter your email address." in response.content
        assert not Signature.objects.exists()

    def test_a_member_missing_a_required_field_is_asked_only_for_that(
        self, client: Client, petition: Petition, katy
    ):
        Person.objects.filter(pk=katy.pk).update(postal_code="")
        token = make_member_token(katy.pk)
        page = client.get(f"/sign/{petition.slug}/?akid={token}").content.decode()
        assert 'name="postal_code"' in page
        assert 'name="email"' not in page
        response = client.post(f"/sign/{petition.slug}/", {"akid": token})
        assert response.status_code == 400
        assert "Not Katy? Click here." in response.content.decode()
        response = client.post(f"/sign/{petition.slug}/", {"akid": token, "postal_code": "LS2 9JT"})
        assert response.status_code == 303
        katy.refresh_from_db()
        assert katy.postal_code == "LS2 9JT"


class TestMemberLinkCommand:
    def test_it_prints_a_petition_link_that_recognises_the_member(
        self, client: Client, petition, katy, capsys
    ):
        call_command(
            "member_link", "KATY@example.org ", "--petition", petition.slug, "--mailing", "5"
        )
        url = capsys.readouterr().out.strip()
        assert url.startswith(f"http://testserver/sign/{petition.slug}/?akid=5.{katy.pk}.")
        response = client.get(url.removeprefix("http://testserver"))
        assert "Not Katy? Click here." in response.content.decode()

    def test_it_prints_the_profile_link_without_a_petition(self, petition, katy, capsys):
        call_command("member_link", "katy@example.org")
        assert capsys.readouterr().out.strip().startswith(f"http://testserver/profile/0.{katy.pk}.")

    def test_it_says_plainly_when_no_member_has_the_address(self, petition):
        from django.core.management.base import CommandError

        with pytest.raises(CommandError, match="No member has the address"):
            call_command("member_link", "nobody@example.org")


class TestRecognisedPageFromTheSharedPage:
    """The member's page is the page cached for everyone with their own fields put in:
    what is personal must follow the member, never the member before them."""

    def test_it_reads_the_member_and_their_consent_in_one_query(
        self, client: Client, petition: Petition, katy, django_assert_num_queries
    ):
        bob = make_person("bob@example.org", "Bob", "Member", postal_code="N1 9GU", country="GB")
        client.get(f"/sign/{petition.slug}/?akid={make_member_token(katy.pk)}")

        with django_assert_num_queries(1):
            response = Client().get(f"/sign/{petition.slug}/?akid={make_member_token(bob.pk, 5)}")

        assert "Not Bob? Click here." in response.content.decode()

    @pytest.mark.skipif(
        connection.vendor != "postgresql", reason="a plan PostgreSQL alone may choose"
    )
    def test_it_looks_up_the_member_s_own_subscriptions_not_every_subscriber_s(
        self, client: Client, petition: Petition, katy
    ):
        # Tables without statistics yet, as after an import just before a send: an
        # EXISTS here was run as one hashed pass over every subscriber of the lists.
        with CaptureQueriesContext(connection) as read:
            client.get(f"/sign/{petition.slug}/?akid={make_member_token(katy.pk)}")
        (query,) = [q["sql"] for q in read.captured_queries if "members_subscription" in q["sql"]]
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (VERBOSE) {query}")
            plan = "\n".join(row[0] for row in cursor.fetchall())

        assert "hashed" not in plan

    def test_it_asks_each_member_only_for_what_is_missing_whoever_came_before(
        self, client: Client, petition: Petition, katy
    ):
        dan = make_person("dan@example.org", "Dan", "Member", country="GB")  # no postal code
        pages = [
            Client().get(f"/sign/{petition.slug}/?akid={make_member_token(p.pk)}").content.decode()
            for p in (katy, dan, katy)
        ]

        assert 'name="postal_code"' not in pages[0]
        assert 'name="postal_code"' in pages[1]
        assert "Not Dan? Click here." in pages[1]
        assert 'name="postal_code"' not in pages[2]
        assert "Dan" not in pages[2]

    def test_a_consent_given_since_the_last_page_shows_at_once(
        self, client: Client, petition: Petition, katy, action_fund
    ):
        url = f"/sign/{petition.slug}/?akid={make_member_token(katy.pk)}"
        assert 'name="consent_open-press-fund"' in client.get(url).content.decode()

        do_subscribe(katy, action_fund.default_list, source="test", wording="Yes, Action Fund.")

        page = client.get(url).content.decode()
        assert 'name="consent_open-press-fund"' not in page
        assert 'name="consent_open-press"' not in page

    def test_a_member_deleted_since_the_mail_is_a_stranger(
        self, client: Client, petition: Petition, katy
    ):
        token = make_member_token(katy.pk)
        katy.delete()

        response = client.get(f"/sign/{petition.slug}/?akid={token}")

        assert "Not Katy?" not in response.content.decode()
        assert 'name="email"' in response.content.decode()
        assert COOKIE not in response.cookies


class FormThatMustNotBeBuilt:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise AssertionError("the sign view built SignForm for a plain one-click submission")


class TestOneClickSigningWithoutTheForm:
    def test_it_signs_a_plain_one_click_submission_without_building_the_form(
        self, client: Client, petition: Petition, katy, monkeypatch: pytest.MonkeyPatch
    ):
        from groundswell.petitions import views

        monkeypatch.setattr(views, "SignForm", FormThatMustNotBeBuilt)
        token = make_member_token(katy.pk, 29208)

        response = client.post(
            f"/sign/{petition.slug}/",
            {"akid": token, "t": "3", "comment": " Open it. ", "consent_open-press-fund": "on"},
        )

        assert response.status_code == 303
        signature = Signature.objects.get()
        assert (signature.person, signature.mailing_id, signature.link_number) == (katy, 29208, 3)
        assert signature.comment == "Open it."
        event = ConsentEvent.objects.get(source=f"petition:{petition.slug}")
        assert event.subscription.mailing_list.organisation.slug == "open-press-fund"


class TestOneClickSigningByTheLinkAlone:
    """The sign view hands over only the id the member's link carries; the signature
    writer reads the member with its batch (petitions/actions/members.py)."""

    def test_the_writer_is_handed_the_member_s_id_and_nothing_of_theirs(
        self, petition: Petition, katy
    ):
        from groundswell.petitions.actions.signing import (
            PendingSignature,
            SignatureDetails,
            prepare_signature,
        )

        details = SignatureDetails(
            email="", first_name="", last_name="", member_id=katy.pk, member_requires=("country",)
        )
        pending = prepare_signature(petition, details, ip_address="192.0.2.7", address_proven=True)
        wired = PendingSignature.from_wire(json.loads(json.dumps(pending.to_wire())))

        assert (wired.normalised_email, wired.details.email) == ("", "")
        assert (wired.details.member_id, wired.details.member_requires) == (katy.pk, ("country",))

    def test_it_signs_with_the_details_on_the_member_s_record(
        self, client: Client, petition: Petition, katy
    ):
        response = client.post(f"/sign/{petition.slug}/", {"akid": make_member_token(katy.pk)})

        assert response.status_code == 303
        signature = Signature.objects.get()
        assert signature.person == katy
        assert signature.email_domain == "example.org"
        assert Person.objects.count() == 1

    def test_a_member_erased_since_the_mail_cannot_sign_by_the_link(
        self, client: Client, petition: Petition, katy
    ):
        token = make_member_token(katy.pk)
        katy.delete()

        response = client.post(f"/sign/{petition.slug}/", {"akid": token})

        assert response.status_code == 400
        assert b"Enter your email address." in response.content
        assert not Signature.objects.exists()
        assert not Person.objects.exists()

    def test_the_domain_limit_counts_members_signing_by_link(
        self, client: Client, petition: Petition, katy, settings: Any
    ):
        from groundswell.lib.limits import parse_limits

        settings.SIGN_LIMITS = parse_limits(
            "network=off; domain=1/10m", keys=["network", "domain"], defaults={}
        )
        ines = make_person(
            "ines@example.org", "Ines", "Duarte", postal_code="1000-001", country="PT"
        )
        assert (
            client.post(f"/sign/{petition.slug}/", {"akid": make_member_token(katy.pk)}).status_code
            == 303
        )

        response = client.post(f"/sign/{petition.slug}/", {"akid": make_member_token(ines.pk)})

        assert response.status_code == 429
        assert "with your email domain" in response.content.decode()
        assert 'Signing as <strong dir="auto">Ines</strong>' in response.content.decode()
        assert list(Signature.objects.values_list("person_id", flat=True)) == [katy.pk]

    def test_the_writer_writes_nothing_for_a_member_lacking_what_the_petition_requires(
        self, petition: Petition, katy
    ):
        from groundswell.petitions.actions.signing import (
            SignatureDetails,
            do_sign_petitions,
            prepare_signature,
        )

        Person.objects.filter(pk=katy.pk).update(country="")
        details = SignatureDetails(
            email="",
            first_name="",
            last_name="",
            member_id=katy.pk,
            member_requires=("postal_code", "country"),
        )

        [result] = do_sign_petitions([prepare_signature(petition, details, address_proven=True)])

        assert result.member_not_ready and result.signature is None
        assert not Signature.objects.exists()

    def test_a_refused_one_click_goes_to_the_writer_once(
        self, client: Client, petition: Petition, katy, settings: Any, monkeypatch
    ):
        from groundswell.lib.limits import parse_limits
        from groundswell.petitions import views

        settings.SIGN_LIMITS = parse_limits(
            "network=1/10m; domain=off", keys=["network", "domain"], defaults={}
        )
        ines = make_person(
            "ines@example.org", "Ines", "Duarte", postal_code="1000-001", country="PT"
        )
        client.post(f"/sign/{petition.slug}/", {"akid": make_member_token(katy.pk)})
        written: list[object] = []
        real = views.write_together

        def counted(pending: Any) -> Any:
            written.append(pending)
            return real(pending)

        monkeypatch.setattr(views, "write_together", counted)

        response = client.post(f"/sign/{petition.slug}/", {"akid": make_member_token(ines.pk)})

        assert response.status_code == 429
        assert 'Signing as <strong dir="auto">Ines</strong>' in response.content.decode()
        assert len(written) == 1
