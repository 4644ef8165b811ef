"""The delivery to the target: a PDF with a cover letter and every signer by country and
region, or the same as CSV; for the lead sponsor's campaigners (it names everyone who
signed), audited, with comments and places left out when staff choose."""

from __future__ import annotations

import base64
import csv
import io
import re
import zlib
from pathlib import Path

import pytest
from django.core.management import call_command

from groundswell.members.actions.privacy import do_erase_person
from groundswell.members.models import AuditAction, AuditEntry
from groundswell.orgs.models import Organisation, Role
from groundswell.petitions.delivery import region_of
from groundswell.petitions.models import Petition, Signature
from tests.cast import make_person, make_petition
from tests.cast import staff_client as staff

pytestmark = pytest.mark.django_db


def pdf_text(data: bytes) -> str:
    """The strings drawn on the PDF's pages, in order (ReportLab compresses each page)."""
    assert data.startswith(b"%PDF")
    shown = []
    for stream in re.findall(rb"stream\r?\n(.*?)endstream", data, re.S):
        raw = stream.strip()
        if raw.endswith(b"~>"):  # ReportLab's default: ASCII85 around the compressed data
            raw = base64.a85decode(raw[:-2].replace(b"\n", b""))
        try:
            content = zlib.decompress(raw)
        except zlib.error:
            continue
        for drawn in re.findall(rb"\((.*?)(?<!\\)\) Tj", content):
            shown.append(re.sub(rb"\\([()\\])", rb"\1", drawn).decode("latin-1"))
    return "\n".join(shown)


@pytest.fixture
def petition(open_press: Organisation, action_fund: Organisation) -> Petition:
    """Ann in Leeds, Ben in Bristol, Cat in Berlin; Dan signed and was later erased."""
    petition = make_petition(sponsors=[open_press, action_fund], target="the leaders of Acme")
    for first, code, country, comment in [
        ("Ann", "LS1 4AP", "GB", "Ann's reason"),
        ("Ben", "BS3 4QT", "GB", ""),
        ("Cat", "10115", "DE", "Cat's reason"),
        ("Dan", "N1 9GU", "GB", "Dan's reason"),
    ]:
        person = make_person(
            f"{first.lower()}@example.org", first, "Signer", postal_code=code, country=country
        )
        Signature.objects.create(petition=petition, person=person, comment=comment)
    do_erase_person(Signature.objects.get(comment="Dan's reason").person, actor="self")
    return petition


class TestTheDeliveryPdf:
    def test_it_has_a_cover_letter_then_the_signers_by_country_and_region(
        self, petition: Petition, open_press: Organisation
    ) -> None:
        response = staff("olga", open_press).get(f"/staff/petitions/{petition.slug}/delivery.pdf")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        text = pdf_text(b"".join(response.streaming_content))
        assert "To: the leaders of Acme" in text
        assert "4 people signed this petition" in text
        assert "Open Press, Open Press Action Fund" in text
        assert "1 more signed and later asked us to forget their name" in text
        order = [text.index(s) for s in ("Germany (1)", "Cat Signer", "United Kingdom (2)")]
        assert order == sorted(order)
        assert text.index("Postal region BS") < text.index("Ben Signer")
        assert text.index("Postal region LS") < text.index("Ann Signer")
        assert "Ann's reason" in text and "Dan" not in text
        assert "Page 2" in text

    def test_staff_can_leave_comments_and_places_out(
        self, petition: Petition, open_press: Organisation
    ) -> None:
        response = staff("olga", open_press).get(
            f"/staff/petitions/{petition.slug}/delivery.pdf", {"comments": "0", "places": "0"}
        )
        text = pdf_text(b"".join(response.streaming_content))
        assert "Ann Signer" in text
        assert "Ann's reason" not in text and "LS1 4AP" not in text

    def test_it_is_for_the_lead_sponsor_only_and_audited(
        self, petition: Petition, open_press: Organisation, action_fund: Organisation
    ) -> None:
        url = f"/staff/petitions/{petition.slug}/delivery.pdf"
        assert staff("fay", action_fund).get(url).status_code == 404
        assert staff("vic", open_press, Role.VIEWER).get(url).status_code == 404
        assert not AuditEntry.objects.filter(action=AuditAction.SIGNATURES_EXPORTED).exists()
        staff("olga", open_press).get(url)
        entry = AuditEntry.objects.get(action=AuditAction.SIGNATURES_EXPORTED)
        assert (entry.organisation, entry.details["format"]) == (open_press, "delivery.pdf")


class TestTheDeliveryCsv:
    def test_it_lists_the_same_signers(self, petition: Petition, open_press: Organisation) -> None:
        response = staff("olga", open_press).get(f"/staff/petitions/{petition.slug}/delivery.csv")
        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
        assert rows == [
            ["name", "postal code", "region", "country", "comment"],
            ["Cat Signer", "10115", "1", "Germany", "Cat's reason"],
            ["Ben Signer", "BS3 4QT", "BS", "United Kingdom", ""],
            ["Ann Signer", "LS1 4AP", "LS", "United Kingdom", "Ann's reason"],
        ]


class TestTheCommand:
    def test_it_writes_the_pdf(self, petition: Petition, tmp_path: Path) -> None:
        out = io.StringIO()
        call_command("delivery", petition.slug, "--out", str(tmp_path / "d.pdf"), stdout=out)
        assert "3 signers named" in out.getvalue()
        assert "Ann Signer" in pdf_text((tmp_path / "d.pdf").read_bytes())


@pytest.mark.parametrize(
    ("code", "region"),
    [("LS1 4AP", "LS"), ("b94 3rw", "B"), ("94110", "9"), ("", ""), ("1012 AB", "1")],
)
def test_it_groups_postal_codes_into_broad_regions(code: str, region: str) -> None:
    assert region_of(code) == region
