"""`groundswell import_people FILE.csv --org ORG_SLUG --list LIST_ID --consent-text TEXT
--source TEXT [--dry-run] [--report FILE.csv]`: people collected elsewhere, onto a list."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from groundswell.lib.csvsafe import csv_text
from groundswell.management import lookup
from groundswell.members.actions.imports import do_import_people
from groundswell.members.imports import ImportFileError, decode, read_rows
from groundswell.orgs.models import MailingList


class Command(BaseCommand):
    help = (
        "Import people from a UTF-8 CSV (a column named email; first_name, last_name, "
        "postal_code, country and address if there are) onto one list, with the consent "
        "wording and source that applied when they were collected. All or nothing. Ends "
        "with a line: imported N, updated N, rejected N."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--org", required=True, help="The organisation's slug.")
        parser.add_argument("--list", required=True, type=int, dest="list_id", help="List id.")
        parser.add_argument("--consent-text", required=True, help="What the people agreed to.")
        parser.add_argument("--source", required=True, help="Where they were collected.")
        parser.add_argument("--dry-run", action="store_true", help="Check, change nothing.")
        parser.add_argument(
            "--report", type=Path, help="Write the refused rows, with reasons, to this CSV."
        )

    def handle(self, *args: Any, file: Path, org: str, list_id: int, **options: Any) -> None:
        organisation = lookup.organisation(org)
        mailing_list = MailingList.objects.filter(pk=list_id, organisation=organisation).first()
        if mailing_list is None:
            lists = ", ".join(
                f"{pk} ({name})"
                for pk, name in organisation.mailing_lists.values_list("pk", "name")
            )
            raise CommandError(f"{organisation.name} has no list {list_id} (its lists: {lists}).")
        try:
            rows = read_rows(decode(file.read_bytes()))
            result = do_import_people(
                rows,
                mailing_list,
                consent_text=options["consent_text"],
                source=options["source"],
                actor="command line",
                dry_run=options["dry_run"],
            )
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}.") from None
        except (ImportFileError, ValueError) as error:
            raise CommandError(str(error)) from None
        for rejected in result.rejected[:20]:
            self.stderr.write(f"line {rejected.line}: {rejected.reason} ({rejected.email})")
        if len(result.rejected) > 20:
            self.stderr.write(f"… and {len(result.rejected) - 20} more refused rows.")
        if options["report"]:
            report = [["line", "email", "reason"]] + [
                [r.line, r.email, r.reason] for r in result.rejected
            ]
            options["report"].write_text(csv_text(report), encoding="utf-8")
        if result.held:
            self.stdout.write(
                f"{result.held} had left the list or asked not to be emailed: "
                "they were asked by email instead of being added."
            )
        if options["dry_run"]:
            self.stdout.write("Dry run: nothing was changed.")
        self.stdout.write(result.summary())
