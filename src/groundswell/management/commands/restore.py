from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from groundswell.operations.backup import BackupError, restore_backup


class Command(BaseCommand):
    help = (
        "Bring back a backup made by `groundswell backup` into an empty installation; stop "
        "the server and workers first (docs/operations.md)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("src", type=Path, help="The backup's directory.")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Replace this installation's database and files even if it is in use.",
        )

    def handle(self, *args: Any, src: Path, force: bool, **options: Any) -> None:
        try:
            backup = restore_backup(src, force=force)
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"Restored the database ({backup.database}) and {backup.files} files from {src}. "
            "Run `groundswell migrate` if this version is newer than the backup's."
        )
