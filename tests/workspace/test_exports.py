"""Exports of a coalition petition: Olga (Open Press) gets the signers who chose Open
Press, never the Fund's; cells a spreadsheet would run are made plain; the file streams;
each export is in the audit log; the command line writes the same file."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from django.core.management import call_command

from groundswell.members.models import AuditAction, AuditEntry
from groundswell.orgs.models import Organisation, Role
from groundswell.petitions.models import Petition, Signature
from tests.cast import default_list, make_person, make_petition, subscribe
from tests.cast import staff_client as staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def coalition(open_press: Organisation, action_fund: Organisation) -> Petition:
    """Ann chose Open Press, Ben the Fund, Cat neither; Ann's comment looks like a formula."""
    petition = make_petition(sponsors=[open_press, action_fund])
    for name, org, comment in [
        ("ann", open_press, '=HYPERLINK("http://evil.example")'),
        ("ben", action_fund, "Ben says hi"),
        ("cat", None, "Cat says hi"),
    ]:
        person = make_person(f"{name}@example.org", name.title(), "Signer", postal_code="N1 9GU")
        if org is not None:
            subscribe(person, default_list(org))
        Signature.objects.create(petition=petition, person=person, comment=comment, source="email")
    return petition


def body(response: Any) -> str:
    assert response.streaming
    return b"".join(response.streaming_content).decode("utf-8")


class TestSignatureExport:
    def test_it_streams_only_the_signers_who_chose_the_exporting_organisation(
        self, coalition: Petition, open_press: Organisation
    ) -> None:
        response = staff("olga", open_press).get(
            f"/staff/petitions/{coalition.slug}/signatures.csv"
        )
        assert response.status_code == 200
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert "attachment" in response["Content-Disposition"]
        rows = list(csv.DictReader(io.StringIO(body(response))))
        assert [r["email"] for r in rows] == ["ann@example.org"]
        assert rows[0]["first_name"] == "Ann" and rows[0]["source"] == "email"

    def test_it_makes_formula_cells_plain_text(
        self, coalition: Petition, open_press: Organisation
    ) -> None:
        text = body(
            staff("olga", open_press).get(f"/staff/petitions/{coalition.slug}/signatures.csv")
        )
        [row] = list(csv.DictReader(io.StringIO(text)))
        assert row["comment"] == '\'=HYPERLINK("http://evil.example")'

    def test_it_starts_with_a_bom_for_spreadsheets_when_asked(
        self, coalition: Petition, open_press: Organisation
    ) -> None:
        text = body(
            staff("olga", open_press).get(
                f"/staff/petitions/{coalition.slug}/signatures.csv", {"bom": "1"}
            )
        )
        assert text.startswith("\ufeffsigned_at,first_name")

    def test_it_gives_json_lines(self, coalition: Petition, action_fund: Organisation) -> None:
        response = staff("fay", action_fund).get(
            f"/staff/petitions/{coalition.slug}/signatures.jsonl"
        )
        records = [json.loads(line) for line in body(response).splitlines()]
        assert [(r["email"], r["comment"]) for r in records] == [("ben@example.org", "Ben says hi")]

    def test_it_records_the_export_before_sending_it(
        self, coalition: Petition, open_press: Organisation
    ) -> None:
        staff("olga", open_press).get(f"/staff/petitions/{coalition.slug}/signatures.csv")
        entry = AuditEntry.objects.get(action=AuditAction.SIGNATURES_EXPORTED)
        assert (entry.actor, entry.organisation, entry.details["format"]) == (
            "staff:olga",
            open_press,
            "csv",
        )

    def test_it_answers_404_for_a_partner_s_signers_a_viewer_or_a_stranger(
        self, coalition: Petition, open_press: Organisation, action_fund: Organisation
    ) -> None:
        url = f"/staff/petitions/{coalition.slug}/signatures.csv"
        olga = staff("olga", open_press)
        assert olga.get(url, {"org": action_fund.slug}).status_code == 404
        assert staff("vic", open_press, Role.VIEWER).get(url).status_code == 404
        other = Organisation.objects.create(name="Elsewhere", slug="elsewhere")
        assert staff("eve", other).get(url).status_code == 404
        assert olga.get(f"/staff/petitions/{coalition.slug}/signatures.xlsx").status_code == 404
        assert not AuditEntry.objects.filter(action=AuditAction.SIGNATURES_EXPORTED).exists()

    def test_the_dashboard_links_to_the_exports(
        self, coalition: Petition, open_press: Organisation
    ) -> None:
        text = staff("olga", open_press).get(f"/staff/petitions/{coalition.slug}/").content
        assert b"signatures.csv?org=open-press&amp;bom=1" in text


class TestListExport:
    def test_it_streams_the_people_subscribed_to_the_list(
        self, coalition: Petition, open_press: Organisation
    ) -> None:
        members = default_list(open_press)
        text = body(staff("olga", open_press).get(f"/staff/lists/{members.pk}/people.csv"))
        rows = list(csv.DictReader(io.StringIO(text)))
        assert [r["email"] for r in rows] == ["ann@example.org"]
        assert AuditEntry.objects.filter(action=AuditAction.PEOPLE_EXPORTED).count() == 1

    def test_it_answers_404_for_another_organisation_s_list(
        self, coalition: Petition, open_press: Organisation, action_fund: Organisation
    ) -> None:
        theirs = default_list(action_fund)
        assert (
            staff("olga", open_press).get(f"/staff/lists/{theirs.pk}/people.csv").status_code == 404
        )


class TestTheCommand:
    def test_it_writes_the_organisation_s_signers_to_standard_output(
        self, coalition: Petition, open_press: Organisation
    ) -> None:
        out = io.StringIO()
        call_command("export_signatures", coalition.slug, "--org", open_press.slug, stdout=out)
        rows = list(csv.DictReader(io.StringIO(out.getvalue())))
        assert [r["email"] for r in rows] == ["ann@example.org"]

    def test_without_an_organisation_it_writes_every_signer(self, coalition: Petition) -> None:
        out = io.StringIO()
        call_command("export_signatures", coalition.slug, "--format", "jsonl", stdout=out)
        emails = [json.loads(line)["email"] for line in out.getvalue().splitlines()]
        assert emails == ["ann@example.org", "ben@example.org", "cat@example.org"]

    def test_it_names_the_sponsors_when_the_organisation_is_wrong(
        self, coalition: Petition
    ) -> None:
        from django.core.management.base import CommandError

        with pytest.raises(CommandError, match="sponsors: open-press, open-press-fund"):
            call_command("export_signatures", coalition.slug, "--org", "nope", stdout=io.StringIO())
