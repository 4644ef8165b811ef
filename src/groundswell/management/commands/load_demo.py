from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from groundswell.demo.load import load_demo


class Command(BaseCommand):
    help = (
        "Load the two demo campaigns, their organisations and N signers with consent records. "
        "Safe to run again: nothing is added twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--signatures",
            type=int,
            default=5000,
            help="How many signatures the demo crowd has in all (default 5000).",
        )

    def handle(self, *args: Any, signatures: int, **options: Any) -> None:
        if signatures < 0:
            raise CommandError("--signatures cannot be negative.")
        result = load_demo(signatures)
        self.stdout.write(
            f"Demo loaded in {result.seconds:.1f} s: added {result.people} people, "
            f"{result.signatures} signatures, {result.subscriptions} subscriptions and "
            f"{result.consent_events} consent events."
        )
