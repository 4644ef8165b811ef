"""`groundswell backup DEST` and `groundswell restore SRC` (docs/operations.md).

A backup is a directory: the database (SQLite copied with its online backup API, a
consistent snapshot taken while the site keeps writing; PostgreSQL with `pg_dump
--format=custom`, one transaction's snapshot), the data directory's own files (keys,
uploaded media) under `files/`, and `manifest.json` saying what made it.

Restore goes into an empty installation: a database with none of our tables and a data
directory without keys. It refuses anything else unless told --force, and is run with
the site stopped (a restore under a running server would be read half-written).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
POSTGRESQL_FILE = "database.pgdump"
FILES = "files"
# Not the installation's own: the database itself, and what processes make while they
# run (sockets and locks, counters, collected static files).
NOT_COPIED = {"run", "metrics", "static"}
# The keys the demo made for itself: a restore must not quietly replace them.
KEY_FILES = ("secret_key", "suppression_key")


class BackupError(Exception):
    """Something an operator can act on, said in a sentence."""


@dataclass(frozen=True)
class Backup:
    path: Path
    database: str
    files: int


def make_backup(dest: Path) -> Backup:
    if dest.exists() and any(dest.iterdir()):
        raise BackupError(f"{dest} is not empty: back up into a new directory.")
    dest.mkdir(parents=True, exist_ok=True)
    if connection.vendor == "sqlite":
        database = SQLITE_FILE
        _copy_sqlite(Path(str(settings.DATABASES["default"]["NAME"])), dest / database)
    else:
        database = POSTGRESQL_FILE
        _pg("pg_dump", "--format=custom", "--no-owner", "--file", str(dest / database))
    files = _copy_files(Path(settings.DATA_DIR), dest / FILES, skip={dest.resolve()})
    manifest = {
        "groundswell": version("groundswell"),
        "database": connection.vendor,
        "database_file": database,
        "made_at": timezone.now().isoformat(),
        "migrations": _applied_migrations(),
    }
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return Backup(dest, database, files)


def restore_backup(src: Path, *, force: bool) -> Backup:
    manifest = _read_manifest(src)
    if manifest["database"] != connection.vendor:
        raise BackupError(
            f"{src} holds a {manifest['database']} database; this installation uses "
            f"{connection.vendor}."
        )
    if not force:
        refusal = installation_in_use()
        if refusal:
            raise BackupError(f"{refusal} Restore with --force to replace it.")
    database = src / manifest["database_file"]
    if connection.vendor == "sqlite":
        connection.close()
        _sqlite_backup(database, Path(str(settings.DATABASES["default"]["NAME"])))
    else:
        connection.close()
        _pg(
            "pg_restore",
            "--no-owner",
            "--no-privileges",
            "--clean",
            "--if-exists",
            "--single-transaction",
            str(database),
            database_option="--dbname",
        )
    files = _copy_files(src / FILES, Path(settings.DATA_DIR), skip=set())
    return Backup(src, manifest["database_file"], files)


def installation_in_use() -> str:
    """Why this installation is not empty; empty when it is."""
    if connection.introspection.table_names():
        return "The database already has tables."
    data_dir = Path(settings.DATA_DIR)
    found = [name for name in KEY_FILES if (data_dir / name).exists()]
    if found:
        return f"The data directory already has {', '.join(found)}."
    if (data_dir / "media").exists() and any((data_dir / "media").iterdir()):
        return "The data directory already has uploaded files (media/)."
    return ""


def _read_manifest(src: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((src / MANIFEST).read_text())
    except FileNotFoundError:
        raise BackupError(f"{src} is not a Groundswell backup (no {MANIFEST}).") from None
    except ValueError:
        raise BackupError(f"{src / MANIFEST} is not readable JSON.") from None
    if not (src / manifest.get("database_file", "")).is_file():
        raise BackupError(f"{src} has no database file.")
    return dict(manifest)


def _copy_sqlite(source: Path, target: Path) -> None:
    # One step (pages=-1): the whole file is read inside one read transaction, so the
    # copy is a single moment of the database while writers carry on (WAL).
    _sqlite_backup(source, target)
    copy = sqlite3.connect(target)
    try:
        # A file complete in itself, with no -wal beside it.
        copy.execute("PRAGMA journal_mode=DELETE")
    finally:
        copy.close()


def _sqlite_backup(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    origin, copy = sqlite3.connect(source), sqlite3.connect(target)
    try:
        origin.backup(copy, pages=-1)
    finally:
        copy.close()
        origin.close()


def _copy_files(source: Path, target: Path, *, skip: set[Path]) -> int:
    """The data directory's own files, from source to target; how many."""
    database = (
        Path(str(settings.DATABASES["default"]["NAME"])) if connection.vendor == "sqlite" else None
    )
    copied = 0
    if not source.is_dir():
        return copied
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if relative.parts[0] in NOT_COPIED or path.resolve() in skip:
            continue
        if any(parent.resolve() in skip for parent in path.parents):
            continue
        if database is not None and path.name.startswith(database.name):
            continue  # the database, its -wal, -shm and lock files: copied above
        if path.name.endswith(".sqlite3") or ".sqlite3-" in path.name:
            continue  # another SQLite database here (the tests' own): not ours to copy
        if path.is_dir() or not path.is_file():
            continue
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, destination)
        copied += 1
    return copied


def _applied_migrations() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
        return [f"{app}.{name}" for app, name in cursor.fetchall()]


def _pg(program: str, *args: str, database_option: str = "") -> None:
    """Run pg_dump or pg_restore against our database, its password in the environment
    (never on the command line, where other users could read it)."""
    db = settings.DATABASES["default"]
    env = dict(os.environ)
    for variable, key in (("PGHOST", "HOST"), ("PGPORT", "PORT"), ("PGUSER", "USER")):
        if db.get(key):
            env[variable] = str(db[key])
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    options = db.get("OPTIONS")
    if isinstance(options, dict) and "sslmode" in options:
        env["PGSSLMODE"] = str(options["sslmode"])
    name = str(db["NAME"])
    command = (
        [program, *args[:-1], database_option, name, args[-1]]
        if database_option
        else [program, *args, name]
    )
    if shutil.which(program) is None:
        raise BackupError(f"{program} is not installed (PostgreSQL's client programs).")
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{program} failed: {done.stderr.strip()}")
