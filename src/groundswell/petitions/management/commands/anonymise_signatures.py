from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from groundswell.petitions.actions.signatures import do_anonymise_closed_petitions


class Command(BaseCommand):
    help = "Forget who signed petitions closed more than N months ago (counts stay)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--months",
            type=int,
            default=settings.ANONYMISE_AFTER_MONTHS,
            help="Months after closing (default: ANONYMISE_AFTER_MONTHS, %(default)s).",
        )

    def handle(self, *args: Any, months: int, **options: Any) -> None:
        if months < 1:
            raise CommandError("--months must be at least 1.")
        result = do_anonymise_closed_petitions(months=months, actor="command")
        self.stdout.write(
            f"Anonymised {result['signatures']} signatures on {result['petitions']} petitions "
            f"closed more than {months} months ago; removed {result['people_removed']} people "
            "with nothing else kept."
        )
