"""`groundswell signing off [SLUG]` / `groundswell signing on [SLUG]`: the signing kill
switch, for one petition or all of them."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from groundswell.petitions.actions.switches import do_switch_signing
from groundswell.petitions.models import Petition


class Command(BaseCommand):
    help = "Switch signing off (or on again) for one petition, or for every petition."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("state", choices=["off", "on"])
        parser.add_argument("slug", nargs="?", help="One petition; without it, all of them.")

    def handle(self, *args: Any, state: str, slug: str | None, **options: Any) -> None:
        petitions = Petition.objects.all()
        if slug:
            petitions = petitions.filter(slug=slug)
            if not petitions.exists():
                raise CommandError(f"No petition with the slug {slug!r}.")
        changed = do_switch_signing(list(petitions), on=state == "on", actor="cli")
        what = f"petition {slug}" if slug else "every petition"
        self.stdout.write(
            f"Signing is {state} for {what} ({len(changed)} changed: "
            f"{', '.join(p.slug for p in changed) or 'none'})."
        )
