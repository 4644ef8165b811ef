"""`groundswell delivery SLUG --out FILE.pdf`: the petition as it is handed to its
target (a cover letter, then the signers by country and region), as a PDF, or as CSV
with --csv."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from groundswell.lib.csvsafe import csv_lines
from groundswell.management import lookup
from groundswell.members.actions.audit import do_record_staff_export
from groundswell.members.models import AuditAction
from groundswell.petitions.delivery import DeliveryOptions, delivery_rows, write_delivery_pdf


class Command(BaseCommand):
    help = "Write a petition's delivery to its target: a PDF (or --csv) of its signers."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="The petition's slug.")
        parser.add_argument("--out", required=True, type=Path, help="The file to write.")
        parser.add_argument("--csv", action="store_true", help="CSV instead of PDF.")
        parser.add_argument("--no-comments", action="store_true", help="Leave comments out.")
        parser.add_argument(
            "--no-places", action="store_true", help="Leave postal codes and regions out."
        )

    def handle(self, *args: Any, slug: str, out: Path, **options: Any) -> None:
        petition = lookup.petition(slug)
        chosen = DeliveryOptions(
            comments=not options["no_comments"], places=not options["no_places"]
        )
        what = "delivery.csv" if options["csv"] else "delivery.pdf"
        do_record_staff_export(
            AuditAction.SIGNATURES_EXPORTED,
            "command line",
            organisation=petition.lead_sponsor_id(),
            details={"petition": petition.pk, "slug": petition.slug, "format": what},
        )
        try:
            if options["csv"]:
                with out.open("w", encoding="utf-8", newline="") as file:
                    file.writelines(csv_lines(delivery_rows(petition, chosen)))
                self.stdout.write(f"Wrote {out}.")
                return
            with out.open("wb") as binary:
                named = write_delivery_pdf(petition, binary, chosen)
        except OSError as error:
            raise CommandError(f"Cannot write {out}: {error.strerror}.") from None
        self.stdout.write(f"Wrote {out}: {named} signers named.")
