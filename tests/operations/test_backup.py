"""`groundswell backup` while people sign, and `groundswell restore` into a fresh
installation: the same people, signatures, consent history and mailings come back."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from groundswell.petitions.actions.signing import do_sign_petitions
from groundswell.petitions.models import Petition, Signature
from tests.mailings.processes import GROUNDSWELL, database_url
from tests.operations.snapshot import PRINT_SUMMARY, summary
from tests.petitions.test_signing_together import pending, signer
from tests.tracking.cast import make_cast
from tests.waiting import wait_until

REPOSITORY = Path(__file__).resolve().parents[2]


class Signers:
    """Signatures committed one by one on a thread until stopped (at most 2,000)."""

    def __init__(self, petition: Petition) -> None:
        self.petition = petition
        self.stop = threading.Event()
        self.signed = 0
        self.thread = threading.Thread(target=self._run)
        self.thread.start()

    def _run(self) -> None:
        try:
            while not self.stop.is_set() and self.signed < 2000:
                do_sign_petitions([pending(self.petition, signer(self.signed))])
                self.signed += 1
        finally:
            connection.close()

    def finish(self) -> None:
        self.stop.set()
        self.thread.join(30)


@pytest.fixture
def fresh_database() -> Iterator[str]:
    """An empty database of a fresh installation, as a DATABASE_URL."""
    if connection.vendor == "sqlite":
        directory = Path(settings.DATA_DIR) / f"fresh-{uuid.uuid4().hex[:8]}"
        directory.mkdir()
        yield f"sqlite:///{directory / 'restored.sqlite3'}"
        shutil.rmtree(directory, ignore_errors=True)
        return
    name = f"gs_restore_{uuid.uuid4().hex[:12]}"
    parts = urlsplit(database_url())
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as db:
        db.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin, autocommit=True) as db:
            db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def groundswell(data_dir: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.update(
        {"GROUNDSWELL_DATA_DIR": str(data_dir), "DATABASE_URL": url, "PYTHONPATH": str(REPOSITORY)}
    )
    return subprocess.run(
        [GROUNDSWELL, *args], env=env, capture_output=True, text=True, timeout=120
    )


def last_line_json(output: str) -> Any:
    # `shell` says first how many models it imported.
    return json.loads(output.strip().splitlines()[-1])


@pytest.mark.django_db(transaction=True)
def test_a_backup_taken_while_people_sign_restores_into_a_fresh_installation(
    tmp_path: Path, fresh_database: str
) -> None:
    cast = make_cast()
    upload = Path(settings.DATA_DIR) / "media" / "logo.txt"
    upload.parent.mkdir(exist_ok=True)
    upload.write_text("an uploaded file")
    signers = Signers(cast.petition)
    try:
        wait_until(lambda: signers.signed >= 20, 30, "the first signatures")
        before = summary()
        call_command("backup", str(tmp_path / "backup"), verbosity=0)
        signed_during = signers.signed
        wait_until(lambda: signers.signed > signed_during, 30, "signing to carry on")
    finally:
        signers.finish()
    after = summary()
    assert len(after["signatures"]) > len(before["signatures"])  # signing did not wait

    fresh_dir = tmp_path / "fresh"
    restored_run = groundswell(fresh_dir, fresh_database, "restore", str(tmp_path / "backup"))
    assert restored_run.returncode == 0, restored_run.stderr
    shown = groundswell(fresh_dir, fresh_database, "shell", "-c", PRINT_SUMMARY)
    assert shown.returncode == 0, shown.stderr
    restored = last_line_json(shown.stdout)

    # Mailings and their recipients did not change while the backup ran: exactly the same.
    assert restored["mailings"] == after["mailings"] and restored["mailings"]
    assert restored["recipients"] == after["recipients"] and restored["recipients"]
    # Signing went on: the backup is one moment between the two readings.
    for part in ("people", "signatures", "consent"):
        rows = {json.dumps(row) for row in restored[part]}
        assert {json.dumps(row) for row in before[part]} <= rows, part
        assert rows <= {json.dumps(row) for row in after[part]}, part
    # ... a moment, not a mixture: every signature with its signer's consent, no more.
    signed = {email for _, email, _ in restored["signatures"] if email.startswith("signer")}
    consented = {
        row[0] for row in restored["consent"] if row[3] == f"petition:{cast.petition.slug}"
    }
    assert signed == consented
    assert (fresh_dir / "media" / "logo.txt").read_text() == "an uploaded file"
    assert Signature.objects.count() == len(after["signatures"])

    # A second restore would overwrite what is there now: only when told to.
    again = groundswell(fresh_dir, fresh_database, "restore", str(tmp_path / "backup"))
    assert again.returncode != 0
    assert "already has tables" in again.stderr and "--force" in again.stderr
    forced = groundswell(fresh_dir, fresh_database, "restore", "--force", str(tmp_path / "backup"))
    assert forced.returncode == 0, forced.stderr
    shown = groundswell(fresh_dir, fresh_database, "shell", "-c", PRINT_SUMMARY)
    assert last_line_json(shown.stdout) == restored


@pytest.mark.django_db
def test_it_refuses_to_restore_over_an_installation_in_use(tmp_path: Path) -> None:
    (tmp_path / "backup").mkdir()
    (tmp_path / "backup" / "manifest.json").write_text(
        json.dumps({"database": connection.vendor, "database_file": "db"})
    )
    (tmp_path / "backup" / "db").write_text("")

    with pytest.raises(CommandError, match=r"already has tables.*--force"):
        call_command("restore", str(tmp_path / "backup"))


@pytest.mark.django_db
def test_it_backs_up_only_into_an_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "kept.txt").write_text("something")

    with pytest.raises(CommandError, match="not empty"):
        call_command("backup", str(tmp_path))

    assert [p.name for p in tmp_path.iterdir()] == ["kept.txt"]
