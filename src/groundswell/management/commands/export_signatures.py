"""`groundswell export_signatures SLUG [--org ORG_SLUG] [--format csv|jsonl]`: a
petition's signatures to standard output, as the workspace's export makes them."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from groundswell.lib.csvsafe import csv_lines
from groundswell.lib.downloads import json_lines
from groundswell.management import lookup
from groundswell.members.actions.audit import do_record_staff_export
from groundswell.members.models import AuditAction
from groundswell.petitions.exports import signature_records, signature_rows


class Command(BaseCommand):
    help = (
        "Write a petition's valid signatures to standard output. With --org, only the "
        "signers who chose that organisation (what its staff may export)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="The petition's slug.")
        parser.add_argument("--org", default="", help="A sponsoring organisation's slug.")
        parser.add_argument("--format", choices=["csv", "jsonl"], default="csv")
        parser.add_argument(
            "--bom", action="store_true", help="Start the CSV with a BOM (for Excel)."
        )

    def handle(
        self, *args: Any, slug: str, org: str, format: str, bom: bool, **options: Any
    ) -> None:
        petition = lookup.petition(slug)
        organisation = None
        if org:
            organisation = petition.sponsors.filter(slug=org).first()
            if organisation is None:
                sponsors = ", ".join(petition.sponsors.values_list("slug", flat=True)) or "none"
                raise CommandError(f"{org!r} does not sponsor {slug!r} (sponsors: {sponsors}).")
        do_record_staff_export(
            AuditAction.SIGNATURES_EXPORTED,
            "command line",
            organisation=organisation,
            details={"petition": petition.pk, "slug": petition.slug, "format": format},
        )
        chunks = (
            json_lines(signature_records(petition, organisation))
            if format == "jsonl"
            else csv_lines(signature_rows(petition, organisation), bom=bom)
        )
        for chunk in chunks:
            self.stdout.write(chunk, ending="")
        self.stdout.flush()
