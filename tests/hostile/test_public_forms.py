"""Hostile input in the public forms: the sign form (a stranger's and a member's), the
privacy request, the profile and email change, the unsubscribe and subscriptions pages.

Charlie the stranger types whatever an attacker would. The answer is the thank-you
page or the form again with a message; the page that shows his name and comment shows
them as text; the emails that greet him carry no header he wrote and no link he chose.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from groundswell.lib.addresses import mail_address, normalise_email
from groundswell.lib.names import name_problem
from groundswell.lib.tokens import make_member_token
from groundswell.members.emails import profile_edit_link
from groundswell.members.models import Person
from groundswell.petitions.counter import clear_process_cache
from groundswell.petitions.models import Petition, Signature
from groundswell.petitions.pages import clear_page_cache
from tests.cast import make_person
from tests.hostile.strategies import (
    EMAILS,
    MARKUP,
    assert_answered_safely,
    assert_no_markup,
    assert_one_line_headers,
    fuzz,
    hostile_email,
    hostile_number,
    hostile_query_value,
    hostile_text,
)
from tests.petitions.conftest import sign_data

pytestmark = pytest.mark.django_db

ATTRIBUTION = ("source", "utm_source", "utm_campaign", "ref", "referer")


def maybe(strategy: st.SearchStrategy[str], ordinary: str) -> st.SearchStrategy[str]:
    return st.one_of(st.just(ordinary), strategy)


def sign_fields() -> st.SearchStrategy[dict[str, str]]:
    """A sign form with any of its fields hostile (the others as Charlie types them)."""
    return st.fixed_dictionaries(
        {
            "first_name": maybe(hostile_text(100), "Charlie"),
            "last_name": maybe(hostile_text(100), "Stranger"),
            "email": maybe(hostile_email(), "charlie@example.org"),
            "postal_code": maybe(hostile_text(20), "AB1 2CD"),
            "country": maybe(hostile_text(2), "GB"),
            "comment": maybe(hostile_text(1000), "Because."),
            "show_name": st.sampled_from(["on", "", "off", "<script>alert(1)</script>"]),
        },
        optional={name: hostile_text(500) for name in (*ATTRIBUTION, "t", "akid")},
    )


def fresh_caches() -> None:
    clear_process_cache()
    clear_page_cache()


def sign(client: Client, petition: Petition, data: dict[str, str], capture: Any) -> Any:
    mail.outbox.clear()
    with capture(execute=True):
        response = client.post(f"/sign/{petition.slug}/", data)
    fresh_caches()
    return response


class TestTheSignForm:
    @fuzz
    @given(fields=sign_fields())
    def test_it_signs_or_names_the_problem_and_shows_what_was_typed_as_text(
        self,
        petition: Petition,
        exact_counts: None,
        django_capture_on_commit_callbacks: Any,
        fields: dict[str, str],
    ) -> None:
        client = Client()
        response = sign(client, petition, fields, django_capture_on_commit_callbacks)
        text = assert_answered_safely(response, "sign")
        if response.status_code == 400:
            assert 'class="error-summary' in text or "error" in text, text[:2000]
        page = client.get(f"/sign/{petition.slug}/")
        assert_answered_safely(page, "the petition page after signing")
        for message in mail.outbox:
            assert_one_line_headers(message)
            assert_no_markup(message.subject)

    @fuzz
    @given(fields=sign_fields(), t=hostile_number(), akid=st.sampled_from(["good", "tampered"]))
    def test_a_member_link_signs_whatever_else_the_form_carries(
        self,
        petition: Petition,
        django_capture_on_commit_callbacks: Any,
        fields: dict[str, str],
        t: str,
        akid: str,
    ) -> None:
        bob = Person.objects.filter(email_normalised="bob@example.org").first() or make_person(
            "bob@example.org", "Bob", "Member", postal_code="LS1 4AP", country="GB"
        )
        token = make_member_token(bob.pk, 5)
        fields = fields | {"t": t, "akid": token if akid == "good" else token[:-2] + "xx"}
        client = Client()
        landing = client.get(f"/sign/{petition.slug}/", {"akid": fields["akid"], "t": t})
        assert_answered_safely(landing, "a member's landing")
        response = sign(client, petition, fields, django_capture_on_commit_callbacks)
        assert_answered_safely(response, "a member signs")
        # A member signs with what we hold of them, whatever names the form carries.
        assert Person.objects.get(pk=bob.pk).first_name == "Bob"
        if response.status_code == 400:
            assert 'class="error-summary' in response.content.decode()

    def test_markup_in_a_name_and_comment_is_shown_as_text(
        self, client: Client, petition: Petition, exact_counts: None
    ) -> None:
        for i, markup in enumerate(MARKUP):
            data = sign_data(
                petition,
                first_name=f"Ann{markup}"[:100],
                email=f"ann{i}@example.org",
                comment=markup,
                show_name="on",
            )
            response = client.post(f"/sign/{petition.slug}/", data)
            assert response.status_code in (303, 400), response.content.decode()[:2000]
        fresh_caches()
        page = client.get(f"/sign/{petition.slug}/").content.decode()
        assert_no_markup(page)
        assert "&lt;a href=&#x27;javascript:alert(4)&#x27;&gt;x&lt;/a&gt;" in page
        # Stored as typed, not escaped twice.
        assert Signature.objects.filter(comment=MARKUP[0]).exists()

    @pytest.mark.parametrize("name", [*ATTRIBUTION, "utm_medium", "utm_term", "utm_content", "t"])
    def test_control_characters_in_a_hidden_field_are_no_error(
        self, client: Client, petition: Petition, name: str
    ) -> None:
        """PostgreSQL cannot store a NUL: a source of "a\\x00b" answered 500, and failed
        every signature committed with it."""
        data = sign_data(petition, **{name: "a\x00b\x07\r\nc"})
        response = client.post(f"/sign/{petition.slug}/", data)
        assert response.status_code == 303, response.content.decode()[:2000]
        assert Signature.objects.count() == 1


class TestTheThankYouEmail:
    @pytest.mark.parametrize(
        "name",
        [
            "http://win.example/prize",
            "Visit www.win-a-prize.example",
            "Claim at prize@win.example",
            "HTTPS://WIN.EXAMPLE",
        ],
    )
    def test_a_name_holding_a_link_is_refused_with_a_message(
        self,
        client: Client,
        petition: Petition,
        django_capture_on_commit_callbacks: Any,
        name: str,
    ) -> None:
        for field in ("first_name", "last_name"):
            data = sign_data(petition, **{field: name})
            response = sign(client, petition, data, django_capture_on_commit_callbacks)
            assert response.status_code == 400
            assert "web or email address" in response.content.decode()
        assert not Signature.objects.exists()
        assert mail.outbox == []

    @pytest.mark.parametrize("name", ["Bob\r\nBcc: victim@example.org", "Bob\nSubject: x"])
    def test_a_name_with_a_line_break_is_refused(
        self, client: Client, petition: Petition, name: str
    ) -> None:
        response = client.post(f"/sign/{petition.slug}/", sign_data(petition, first_name=name))
        assert response.status_code == 400
        assert not Signature.objects.exists()

    @pytest.mark.parametrize(
        "email, sent_to",
        [
            ("bob@straße.de", "bob@xn--strae-oqa.de"),
            ("bob@BÜCHER.example", "bob@xn--bcher-kva.example"),
            ("Bob@Example.org", "Bob@Example.org"),
        ],
    )
    def test_it_goes_to_the_domain_idna_2008_names(
        self,
        client: Client,
        petition: Petition,
        django_capture_on_commit_callbacks: Any,
        email: str,
        sent_to: str,
    ) -> None:
        """Django's own encoding is IDNA 2003, which sends "straße.de" to "strasse.de",
        someone else's domain."""
        response = sign(
            client, petition, sign_data(petition, email=email), django_capture_on_commit_callbacks
        )
        assert response.status_code == 303
        [message] = mail.outbox
        assert message.recipients() == [sent_to]
        assert message.message()["To"] == sent_to

    @fuzz
    @given(email=hostile_email())
    def test_every_address_we_take_is_sent_to_as_ascii_naming_the_same_mailbox(
        self, email: str
    ) -> None:
        try:
            normalised = normalise_email(email)
        except ValidationError:
            return
        sent_to = mail_address(email)
        assert sent_to.isascii()
        assert normalise_email(sent_to) == normalised


class TestThePrivacyForm:
    @fuzz
    @given(email=hostile_email(), kind=maybe(hostile_text(20), "export"))
    def test_it_answers_the_same_or_names_the_problem(
        self, django_capture_on_commit_callbacks: Any, email: str, kind: str
    ) -> None:
        make_person("bob@example.org", "Bob", "Member")
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            response = Client().post("/privacy/", {"email": email, "kind": kind})
        assert_answered_safely(response, "privacy")
        for message in mail.outbox:
            assert_one_line_headers(message)
            assert message.to == ["bob@example.org"]

    @pytest.mark.parametrize("email", [e for e in EMAILS if "\n" in e or "\r" in e])
    def test_a_line_break_in_the_address_is_refused(self, client: Client, email: str) -> None:
        make_person("bob@example.org", "Bob", "Member")
        response = client.post("/privacy/", {"email": email, "kind": "export"})
        assert response.status_code == 400
        assert mail.outbox == []


class TestTheProfileForms:
    @fuzz
    @given(
        fields=st.fixed_dictionaries(
            {},
            optional={
                "first_name": hostile_text(100),
                "last_name": hostile_text(100),
                "address": hostile_text(500),
                "postal_code": hostile_text(20),
                "country": hostile_text(2),
                "new_email": hostile_email(),
            },
        ).filter(bool)
    )
    def test_it_saves_or_names_the_problem_and_mails_no_header_typed(
        self, django_capture_on_commit_callbacks: Any, fields: dict[str, str]
    ) -> None:
        katy = Person.objects.filter(email_normalised="katy@example.org").first() or make_person(
            "katy@example.org", "Katy", "Lindqvist"
        )
        link = profile_edit_link(katy).removeprefix("http://testserver")
        mail.outbox.clear()
        client = Client()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(link, fields)
        text = assert_answered_safely(response, "profile edit")
        if response.status_code == 400:
            assert "error" in text
        for message in mail.outbox:
            assert_one_line_headers(message)
        katy.refresh_from_db()
        for name in (katy.first_name, katy.last_name):
            assert name_problem(name) is None, f"saved a name no email may carry: {name!r}"

    @fuzz
    @given(signed=hostile_query_value(), method=st.sampled_from(["get", "post"]))
    def test_a_forged_link_is_an_expired_link(self, signed: str, method: str) -> None:
        for path in (
            "/profile/edit/{}/",
            "/profile/confirm-email/{}/",
            "/profile/cancel-email/{}/",
            "/privacy/confirm/{}/",
            "/welcome-back/{}/",
        ):
            response = getattr(Client(), method)(path.format(signed))
            assert_answered_safely(response, path)
            assert response.status_code in (404, 405), (path, signed, response.status_code)


class TestTheMemberPages:
    @fuzz
    @given(
        scope=hostile_text(40),
        lists=st.lists(hostile_number(), max_size=4),
        body=st.sampled_from(["", "List-Unsubscribe=One-Click", "%FF%00=\r\n"]),
    )
    def test_unsubscribe_and_subscriptions_take_anything(
        self, scope: str, lists: list[str], body: str
    ) -> None:
        bob = Person.objects.filter(email_normalised="bob@example.org").first() or make_person(
            "bob@example.org", "Bob", "Member"
        )
        token = make_member_token(bob.pk, 99999999)
        client = Client()
        for url in (f"/unsubscribe/{token}/", f"/subscriptions/{token}/", f"/profile/{token}/"):
            assert_answered_safely(client.get(url), url)
            assert_answered_safely(client.post(url, {"scope": scope, "lists": lists}), url)
        raw = client.post(
            f"/unsubscribe/{token}/", body, content_type="application/x-www-form-urlencoded"
        )
        assert_answered_safely(raw, "one-click")
