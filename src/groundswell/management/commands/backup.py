from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from groundswell.operations.backup import BackupError, make_backup


class Command(BaseCommand):
    help = (
        "Copy the database and the data directory's own files (keys, uploads) into DEST, "
        "a new directory, while the site runs (docs/operations.md)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("dest", type=Path, help="A directory that does not exist yet.")

    def handle(self, *args: Any, dest: Path, **options: Any) -> None:
        try:
            backup = make_backup(dest)
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"Backed up the database ({backup.database}) and {backup.files} files to {dest}."
        )
