"""Hostile input in the staff forms, as Carla the campaigner of Open Press types or
uploads it: the petition editor, the mailing composer, a person added by hand, an
import and its column mapping, the team and the audit log's filters.

Staff are trusted with their organisation, not with markup: whatever they type comes
back as text on every page that shows it (the public page, the dashboards, the people
pages, the admin), as one header line in the email it goes into, and as text in the
spreadsheets (lib/csvsafe.py).
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from groundswell.mailings.models import Mailing, MailingRecipient
from groundswell.mailings.rendering import prepare_mailing
from groundswell.mailings.targeting import iter_target_batches
from groundswell.members.models import Person
from groundswell.orgs.models import Organisation, StaffRole
from groundswell.petitions.counter import clear_process_cache
from groundswell.petitions.models import Petition
from groundswell.petitions.pages import clear_page_cache
from groundswell.petitions.tasks import thank_you_message
from groundswell.workspace.models import PeopleImport
from tests import cast
from tests.hostile.strategies import (
    CONTROL,
    EMAILS,
    MARKUP,
    NEWLINES,
    UNICODE,
    assert_answered_safely,
    assert_one_line_headers,
    fuzz,
    fuzz_heavy,
    hostile_email,
    hostile_number,
    hostile_query_value,
    hostile_text,
)

pytestmark = pytest.mark.django_db

# What a spreadsheet would run: a cell that starts with one of these.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def maybe(strategy: st.SearchStrategy[Any], ordinary: Any) -> st.SearchStrategy[Any]:
    return st.one_of(st.just(ordinary), strategy)


def carla(org: Organisation) -> Client:
    """Carla, an owner of the organisation, signed in (made without a password: hashing
    one is most of a small test's time)."""
    user, made = User.objects.get_or_create(username="carla", email="carla@example.org")
    if made:
        StaffRole.objects.create(user=user, organisation=org, role="owner")
    return cast.signed_in(user)


def administrator() -> User:
    """Alice, an installation administrator, without a password (see carla)."""
    user, _made = User.objects.get_or_create(
        username="alice", defaults={"is_staff": True, "is_superuser": True}
    )
    return user


def fresh_caches() -> None:
    clear_process_cache()
    clear_page_cache()


def assert_cells_are_text(data: str, what: str) -> None:
    for row in csv.reader(io.StringIO(data.lstrip("\ufeff"))):
        for cell in row:
            assert not cell.startswith(FORMULA_STARTS) or cell.lstrip("-").isdigit(), (what, cell)


def body_of(response: Any) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")


def petition_fields(org: Organisation) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "title": maybe(hostile_text(200), "Save the Riverside Library"),
            "slug": maybe(hostile_text(50), ""),
            "target": maybe(hostile_text(200), "the city council"),
            "statement": maybe(hostile_text(500), "Keep the library open."),
            "background": maybe(hostile_text(2000), "The council plans cuts."),
            "goal": maybe(hostile_number(), "1000"),
            "consent_mode": maybe(hostile_text(20), "explicit"),
            "thank_you_text": maybe(hostile_text(500), ""),
            "share_text": maybe(hostile_text(200), ""),
            "lead": maybe(hostile_number(), str(org.pk)),
        }
    )


class TestThePetitionEditor:
    @fuzz_heavy
    @given(data=st.data())
    def test_it_saves_or_names_the_problem_and_every_page_shows_text(
        self, open_press: Organisation, django_capture_on_commit_callbacks: Any, data: Any
    ) -> None:
        client = carla(open_press)
        petition = Petition.objects.filter(slug="cancel-the-contract").first() or (
            cast.make_petition(sponsors=[open_press])
        )
        fields = data.draw(petition_fields(open_press))
        edit = client.post(f"/staff/petitions/{petition.slug}/edit/", fields)
        assert_answered_safely(edit, "edit")
        new = client.post("/staff/petitions/new/", fields)
        assert_answered_safely(new, "new")
        petition.refresh_from_db()
        fresh_caches()
        for url in (
            f"/staff/petitions/{petition.slug}/",
            f"/staff/petitions/{petition.slug}/edit/",
            f"/staff/petitions/{petition.slug}/preview/",
            f"/staff/petitions/{petition.slug}/stats.json",
            "/staff/",
            "/",
            f"/sign/{petition.slug}/",
            f"/sign/{petition.slug}/thanks/",
        ):
            assert_answered_safely(client.get(url), url)
        # The title goes into the thank-you email's subject.
        signer = cast.make_person(f"s{Person.objects.count()}@example.org", "Sam", "Signer")
        signature = petition.signatures.create(person=signer)
        message = thank_you_message(signature)
        assert_one_line_headers(message)

    def test_a_title_with_a_line_break_is_refused(self, open_press: Organisation) -> None:
        client = carla(open_press)
        for title in NEWLINES[:3]:
            fields = {
                "title": title,
                "slug": "",
                "target": "the city council",
                "statement": "Keep the library open.",
                "background": "",
                "goal": "1000",
                "consent_mode": "explicit",
                "thank_you_text": "",
                "share_text": "",
                "lead": str(open_press.pk),
            }
            response = client.post("/staff/petitions/new/", fields)
            assert response.status_code == 400, title
            assert "Write this on one line." in response.content.decode()
        assert not Petition.objects.exists()


def mailing_fields(org: Organisation) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "organisation": maybe(hostile_number(), org.pk),
            "from_name": maybe(hostile_text(100), ""),
            "from_email": maybe(hostile_email(), ""),
            "reply_to": maybe(hostile_email(), ""),
            "subject": maybe(hostile_text(200), "Hello {{ first_name }}"),
            "subject_b": maybe(hostile_text(200), ""),
            "ab_sample_percent": maybe(hostile_number(), 10),
            "ab_metric": maybe(hostile_text(20), "clicks"),
            "ab_wait_minutes": maybe(hostile_number(), 120),
            "preheader": maybe(hostile_text(200), ""),
            "body": maybe(hostile_text(2000), "Dear {{ first_name }},\n\nPlease sign."),
            "petition": maybe(hostile_number(), ""),
            "signoff_name": maybe(hostile_text(100), "Carla"),
            "signoff_title": maybe(hostile_text(100), ""),
            "signoff_organisation": maybe(hostile_text(100), ""),
            "include_lists": st.just([cast.default_list(org).pk]),
            "countries": maybe(hostile_text(50), ""),
            "postal_code_prefix": maybe(hostile_text(20), ""),
            "rate_limit": maybe(hostile_number(), ""),
        }
    )


class TestTheMailingComposer:
    @fuzz_heavy
    @given(data=st.data(), member_name=st.sampled_from(MARKUP + NEWLINES))
    def test_it_saves_or_names_the_problem_and_the_email_keeps_its_headers(
        self, open_press: Organisation, data: Any, member_name: str
    ) -> None:
        client = carla(open_press)
        fields = data.draw(mailing_fields(open_press))
        response = client.post("/staff/mailings/new/", fields)
        assert_answered_safely(response, "compose")
        mailing = Mailing.objects.order_by("-pk").first()
        if mailing is None:
            return
        for url in (
            "/staff/mailings/",
            f"/staff/mailings/{mailing.pk}/",
            f"/staff/mailings/{mailing.pk}/edit/",
            f"/staff/mailings/{mailing.pk}/preview/",
        ):
            assert_answered_safely(client.get(url), url)
        edit = client.post(f"/staff/mailings/{mailing.pk}/edit/", fields)
        assert_answered_safely(edit, "edit")
        # A member whose name came from elsewhere (an import, the admin) with markup or
        # a line break in it: the subject's merge field cannot start a header.
        member = Person.objects.create(
            email=f"m{Person.objects.count()}@example.org",
            email_normalised=f"m{Person.objects.count()}@example.org",
            first_name=member_name,
        )
        recipient = MailingRecipient(mailing=mailing, person=member, email=member.email)
        raw = prepare_mailing(mailing, persist_links=False).message_bytes(recipient)
        assert_one_line_headers(raw)
        mail.outbox.clear()
        test_send = client.post(
            f"/staff/mailings/{mailing.pk}/test/",
            {"addresses": data.draw(hostile_email()), "as_member": ""},
        )
        assert_answered_safely(test_send, "test send")
        for message in mail.outbox:
            assert_one_line_headers(message.message().as_bytes())

    def test_a_test_copy_goes_to_odd_addresses_or_says_why_not(
        self, open_press: Organisation
    ) -> None:
        mailing = cast.make_mailing(open_press, cast.default_list(open_press))
        client = carla(open_press)
        for address in EMAILS[:8]:
            mail.outbox.clear()
            response = client.post(
                f"/staff/mailings/{mailing.pk}/test/", {"addresses": address, "as_member": ""}
            )
            assert_answered_safely(response, address)
            for message in mail.outbox:
                assert_one_line_headers(message.message().as_bytes())
                assert all(r.isascii() for r in message.recipients()), message.recipients()

    def test_a_member_at_an_international_domain_is_sent_to_in_ascii(
        self, open_press: Organisation
    ) -> None:
        """The SMTP transport sent "RCPT TO:<zoe@bücher.example>" as it was, which smtplib
        cannot encode: UnicodeEncodeError, not an SMTP error the send loop handles."""
        zoe = cast.make_person("zoe@B\u00fccher.example", "Zo\u00eb")
        cast.subscribe(zoe, cast.default_list(open_press))
        mailing = cast.make_mailing(open_press, cast.default_list(open_press))
        targets = [t.email for batch in iter_target_batches(mailing) for t in batch]
        assert targets == ["zoe@xn--bcher-kva.example"]


def person_fields() -> st.SearchStrategy[dict[str, str]]:
    return st.fixed_dictionaries(
        {
            "email": maybe(hostile_email(), "nadia@example.org"),
            "first_name": maybe(hostile_text(100), "Nadia"),
            "last_name": maybe(hostile_text(100), "Nour"),
            "postal_code": maybe(hostile_text(20), "LS6 1AA"),
            "country": maybe(hostile_text(2), "GB"),
            "consent_text": maybe(hostile_text(2000), "Yes, email me."),
            "source": maybe(hostile_text(100), "stall"),
        }
    )


class TestPeople:
    @fuzz
    @given(fields=person_fields())
    def test_a_person_added_by_hand_shows_as_text_everywhere(
        self, open_press: Organisation, fields: dict[str, str]
    ) -> None:
        client = carla(open_press)
        list_id = cast.default_list(open_press).pk
        response = client.post(f"/staff/lists/{list_id}/add/", fields)
        assert_answered_safely(response, "add person")
        for url in ("/staff/lists/", "/staff/audit/", f"/staff/lists/{list_id}/add/"):
            assert_answered_safely(client.get(url), url)
        export = client.get(f"/staff/lists/{list_id}/people.csv")
        assert_answered_safely(export, "people.csv")
        assert_cells_are_text(body_of(export), "people.csv")

    @fuzz
    @given(
        cells=st.lists(
            st.tuples(hostile_email(), hostile_text(100), hostile_text(100)), max_size=4
        ),
        mapping=st.fixed_dictionaries(
            {}, optional={f"column-{f}": hostile_number() for f in ("email", "first_name")}
        ),
    )
    def test_an_import_of_a_hostile_sheet_reports_it_as_text(
        self,
        open_press: Organisation,
        django_capture_on_commit_callbacks: Any,
        cells: list[tuple[str, str, str]],
        mapping: dict[str, str],
    ) -> None:
        client = carla(open_press)
        sheet = io.StringIO()
        writer = csv.writer(sheet)
        writer.writerow(["Email", "First name", "Last name"])
        writer.writerows([*cells, ("=cmd|' /C calc'!A0@example.org", "=1+1", "@SUM(A1)")])
        upload = client.post(
            "/staff/imports/",
            {
                "file": SimpleUploadedFile(
                    "stall<script>.csv", sheet.getvalue().encode("utf-8", "surrogatepass")
                ),
                "mailing_list": cast.default_list(open_press).pk,
                "consent_text": "Yes",
                "source": "stall",
            },
        )
        assert_answered_safely(upload, "upload")
        job = PeopleImport.objects.order_by("-pk").first()
        if job is None:
            return
        for url in (f"/staff/imports/{job.pk}/", "/staff/imports/"):
            assert_answered_safely(client.get(url), url)
        with django_capture_on_commit_callbacks(execute=True):
            started = client.post(f"/staff/imports/{job.pk}/", {**mapping, "start": "1"})
        assert_answered_safely(started, "start")
        assert_answered_safely(client.get(f"/staff/imports/{job.pk}/"), "after")
        refused = client.get(f"/staff/imports/{job.pk}/refused.csv")
        assert_answered_safely(refused, "refused.csv")
        if refused.status_code == 200:
            assert_cells_are_text(body_of(refused), "refused.csv")
        export = client.get(f"/staff/lists/{cast.default_list(open_press).pk}/people.csv")
        assert_cells_are_text(body_of(export), "people.csv")

    def test_a_sheet_with_a_nul_character_is_refused_with_a_reason(
        self, open_press: Organisation
    ) -> None:
        response = carla(open_press).post(
            "/staff/imports/",
            {
                "file": SimpleUploadedFile("stall.csv", b"Email\r\n\x00bob@example.org\r\n"),
                "mailing_list": cast.default_list(open_press).pk,
                "consent_text": "Yes",
                "source": "stall",
            },
        )
        assert response.status_code == 400
        assert "NUL character" in response.content.decode()
        assert not PeopleImport.objects.exists()


class TestStaffQueries:
    @fuzz_heavy
    @given(
        values=st.lists(hostile_query_value(), min_size=4, max_size=4),
        username=hostile_text(150),
        role=hostile_text(20),
    )
    def test_filters_pages_and_the_team_form_take_anything(
        self, petition: Petition, values: list[str], username: str, role: str
    ) -> None:
        client = cast.signed_in(administrator())
        a, b, c, d = values
        slug = petition.slug
        for url in (
            f"/staff/audit/?action={a}&actor={b}&organisation={c}&page={d}&since={a}&until={b}",
            f"/staff/petitions/{slug}/?page={a}&refresh={b}",
            f"/staff/petitions/{slug}/signatures.csv?org={a}&bom={b}",
            f"/staff/petitions/{slug}/delivery.csv?comments={a}&places={b}&org={c}",
            f"/staff/mailings/?page={a}&status={b}",
            f"/staff/reports/mailings/99999999999999999999/?page={a}",
            f"/admin/members/person/?q={a}&p={b}&o={c}",
            f"/admin/petitions/signature/?q={a}&status__exact={b}",
            f"/staff/imports/?page={a}",
        ):
            response = client.get(url)
            text = assert_answered_safely(response, url)
            if url.split("?")[0].endswith(".csv") and response.status_code == 200:
                assert_cells_are_text(body_of(response), url)
            del text
        org = petition.sponsors.first()
        assert org is not None
        team = client.post(
            f"/staff/team/{org.slug}/grant/", {"username": username, "email": "", "role": role}
        )
        assert_answered_safely(team, "grant")
        remove = client.post(f"/staff/team/{org.slug}/remove/", {"username": username})
        assert_answered_safely(remove, "remove")

    def test_a_nul_in_a_filter_or_a_username_is_no_error(self, petition: Petition) -> None:
        """PostgreSQL cannot take a NUL in a query: each of these answered 500."""
        client = cast.signed_in(administrator())
        for url in ("/staff/audit/?actor=%00", "/admin/petitions/signature/?status__exact=%00"):
            assert client.get(url).status_code == 400, url
        org = petition.sponsors.first()
        assert org is not None
        remove = client.post(f"/staff/team/{org.slug}/remove/", {"username": "a\x00b"})
        assert remove.status_code < 500
        sign_in = Client().post("/staff/login/", {"username": "a\x00b", "password": "x\x00"})
        assert sign_in.status_code in (200, 400, 429)

    def test_a_signer_s_markup_and_formulas_stay_text_for_staff(self, petition: Petition) -> None:
        # Everything but NUL, which no form lets in and PostgreSQL cannot store.
        odd = [v for v in (*UNICODE, *CONTROL, *NEWLINES) if "\x00" not in v]
        for i, markup in enumerate((*MARKUP, *odd)):
            person = Person.objects.create(
                email=f"x{i}@example.org",
                email_normalised=f"x{i}@example.org",
                first_name=markup,
                last_name='=HYPERLINK("http://evil.example")',
                postal_code="@SUM(1)",
            )
            petition.signatures.create(person=person, comment=markup, show_name=True)
        client = cast.signed_in(administrator())
        slug = petition.slug
        fresh_caches()
        for url in (
            f"/staff/petitions/{slug}/",
            f"/sign/{slug}/",
            "/staff/audit/",
            "/admin/members/person/",
            f"/admin/members/person/{Person.objects.first().pk}/change/",  # type: ignore[union-attr]
            "/admin/petitions/signature/",
        ):
            assert_answered_safely(client.get(url), url)
        for url in (
            f"/staff/petitions/{slug}/signatures.csv",
            f"/staff/petitions/{slug}/delivery.csv",
            f"/staff/lists/{cast.default_list(petition.sponsors.first()).pk}/people.csv",  # type: ignore[arg-type]
        ):
            response = client.get(url)
            assert response.status_code == 200, url
            assert_cells_are_text(body_of(response), url)
        pdf = client.get(f"/staff/petitions/{slug}/delivery.pdf")
        assert pdf.status_code == 200
        # JSON lines are data for programs, downloaded, never shown as a page.
        jsonl = client.get(f"/staff/petitions/{slug}/signatures.jsonl")
        assert "html" not in jsonl["Content-Type"] and jsonl["X-Content-Type-Options"] == "nosniff"
        assert jsonl["Content-Disposition"].startswith("attachment")
