"""Importing people collected on paper onto Open Press's list: new people are made,
known people filled in (never overwritten) and subscribed with the wording given, bad
rows refused with a reason, a dry run changes nothing, and someone who had left is
asked by email instead of being added back."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError

from groundswell.members.actions.consent import do_unsubscribe
from groundswell.members.models import AuditAction, AuditEntry, ConsentEvent, Person
from groundswell.orgs.models import Organisation
from tests.cast import default_list, make_person, subscribe

pytestmark = pytest.mark.django_db

WORDING = "Tick to hear from Open Press about the library campaign."
SHEET = """Email,First name,Surname,Postcode,Country
ann@example.org,Ann,Able,LS1 4AP,gb
bob@example.org,Robert,Changed,,
not-an-address,Cat,Carter,,
ann@example.org,Ann,Again,,
dan@example.org,Dan,Dare,,Britain
"""


def run(path: Path, org: Organisation, *extra: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "import_people",
        str(path),
        "--org",
        org.slug,
        "--list",
        str(default_list(org).pk),
        "--consent-text",
        WORDING,
        "--source",
        "library stall, 2 May",
        *extra,
        stdout=out,
        stderr=err,
    )
    return out.getvalue(), err.getvalue()


@pytest.fixture
def sheet(tmp_path: Path) -> Path:
    path = tmp_path / "people.csv"
    path.write_text(SHEET, encoding="utf-8")
    return path


@pytest.fixture
def bob(open_press: Organisation) -> Person:
    return make_person("Bob@Example.org", "Bob", "Member")


class TestImportPeople:
    def test_it_imports_fills_in_and_refuses_with_reasons(
        self, sheet: Path, open_press: Organisation, bob: Person
    ) -> None:
        out, err = run(sheet, open_press)
        assert out.strip().splitlines()[-1] == "imported 1, updated 1, rejected 3"
        assert "line 4:" in err and "line 5: The same address as line 2." in err
        assert "line 6: Country must be a two-letter code" in err
        ann = Person.objects.get(email_normalised="ann@example.org")
        assert (ann.first_name, ann.last_name, ann.country) == ("Ann", "Able", "GB")
        bob.refresh_from_db()
        assert (bob.first_name, bob.last_name) == ("Bob", "Member")  # never overwritten
        for person in (ann, bob):
            event = ConsentEvent.objects.get(subscription__person=person)
            assert (event.wording, event.source) == (WORDING, "import:library stall, 2 May")
        entry = AuditEntry.objects.get(action=AuditAction.PEOPLE_IMPORTED)
        assert (entry.organisation, entry.details["rejected"]) == (open_press, 3)

    def test_a_dry_run_changes_nothing_and_says_what_would_happen(
        self, sheet: Path, open_press: Organisation
    ) -> None:
        out, _err = run(sheet, open_press, "--dry-run")
        assert "Dry run: nothing was changed." in out
        assert out.strip().splitlines()[-1] == "imported 2, updated 0, rejected 3"
        assert not Person.objects.exists()
        assert not AuditEntry.objects.exists()

    def test_it_writes_the_refused_rows_to_a_report(
        self, sheet: Path, open_press: Organisation, tmp_path: Path
    ) -> None:
        run(sheet, open_press, "--report", str(tmp_path / "refused.csv"))
        rows = list(csv.DictReader((tmp_path / "refused.csv").open(encoding="utf-8")))
        assert [(r["line"], r["email"]) for r in rows] == [
            ("4", "not-an-address"),
            ("5", "ann@example.org"),
            ("6", "dan@example.org"),
        ]

    def test_someone_who_left_the_list_is_asked_not_added_back(
        self, sheet: Path, open_press: Organisation, bob: Person, settings: Any
    ) -> None:
        subscribe(bob, default_list(open_press))
        do_unsubscribe(bob, default_list(open_press), source="test")
        out, _err = run(sheet, open_press)
        assert "1 had left the list or asked not to be emailed" in out
        assert bob.subscriptions.get().status == "unsubscribed"

    def test_a_file_without_an_email_column_changes_nothing(
        self, tmp_path: Path, open_press: Organisation
    ) -> None:
        path = tmp_path / "bad.csv"
        path.write_text("name,phone\nAnn,123\n", encoding="utf-8")
        with pytest.raises(CommandError, match="needs a column named “email”"):
            run(path, open_press)
        assert not Person.objects.exists()

    def test_a_file_that_is_not_utf8_is_refused_with_how_to_fix_it(
        self, tmp_path: Path, open_press: Organisation
    ) -> None:
        path = tmp_path / "latin.csv"
        path.write_bytes("email,first_name\nzoé@example.org,Zoé\n".encode("latin-1"))
        with pytest.raises(CommandError, match="CSV UTF-8"):
            run(path, open_press)

    def test_a_name_holding_a_link_is_refused_as_the_public_forms_refuse_it(
        self, tmp_path: Path, open_press: Organisation
    ) -> None:
        path = tmp_path / "names.csv"
        path.write_text(
            "email,first_name,last_name\n"
            "ann@example.org,Ann,Able\n"
            "win@example.org,Claim your prize at win.example,\n"
            "rtl@example.org,Eve,\u202eevil\n",
            encoding="utf-8",
        )
        out, err = run(path, open_press)
        assert out.strip().splitlines()[-1] == "imported 1, updated 0, rejected 2"
        assert "line 3: First name: Enter your name without a web or email address." in err
        assert "line 4: Last name: Enter your name without line breaks" in err
        assert list(Person.objects.values_list("email_normalised", flat=True)) == [
            "ann@example.org"
        ]

    def test_it_names_the_lists_when_the_list_is_wrong(
        self, sheet: Path, open_press: Organisation, action_fund: Organisation
    ) -> None:
        with pytest.raises(CommandError, match="has no list"):
            call_command(
                "import_people",
                str(sheet),
                "--org",
                open_press.slug,
                "--list",
                str(default_list(action_fund).pk),
                "--consent-text",
                WORDING,
                "--source",
                "x",
                stdout=io.StringIO(),
            )
        assert mail.outbox == []
