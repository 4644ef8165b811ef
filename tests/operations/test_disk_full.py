"""The disk of the data directory fills while people sign (SQLite, its database in the
data directory): signers get the 503 page with their form kept, not a 500; no
acknowledged signature is lost; the database stays sound (PRAGMA integrity_check);
and signing works again, with no restart, once there is space.

The data directory is a small tmpfs mounted for the test, which needs root (or
CAP_SYS_ADMIN); where mounting is refused the test is skipped, saying so."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import tempfile
from pathlib import Path

import pytest
from django.db import connection

from groundswell.petitions.models import Petition
from tests.conftest import free_port
from tests.operations.test_database_away import Signer
from tests.serving import start_serve, stop_serve, wait_until_ready

SIZE = "16m"


@contextlib.contextmanager
def small_disk() -> Path:  # type: ignore[misc]
    mount_point = Path(tempfile.mkdtemp(prefix="gs-full-"))
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SIZE},mode=0700", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        mount_point.rmdir()
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)
        mount_point.rmdir()


def fill(path: Path) -> None:
    """Write zeros into `path` until the file system has no space left."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (1 << 20, 65536, 4096, 512, 1):
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * size)
    finally:
        os.close(fd)


def integrity(database: Path) -> str:
    check = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        return str(check.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        check.close()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_full_disk_gives_signers_a_503_and_signing_comes_back_with_space(
    petition: Petition,
) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL's disk is the database server's, not the data directory's")
    with small_disk() as disk:
        database = disk / "groundswell.sqlite3"
        # The test's database, petition and all, copied onto the small disk.
        source = sqlite3.connect(connection.settings_dict["NAME"])
        copy = sqlite3.connect(database)
        source.backup(copy)
        copy.close()
        source.close()
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        serve = start_serve(
            port, data_dir=disk / "data", database_url=f"sqlite:///{database}", workers=1
        )
        output = ""
        try:
            wait_until_ready(base)
            signer = Signer(base, petition)
            assert signer.sign(email="before@example.org")[0] == 303

            fill(disk / "filler")
            answers: dict[str, int] = {}
            full_page = ""
            for i in range(300):
                email = f"full{i}@example.org"
                status, _, html = signer.sign(first_name="Zoë", email=email)
                answers[email] = status
                if status != 303:
                    full_page = html
                    break
            statuses = set(answers.values())
            print(f"answers on the full disk: {sorted(statuses)} after {len(answers)}")

            assert statuses <= {303, 503}, "never a 500"
            assert full_page, "the disk never filled up"
            assert "Your signature is not saved yet" in full_page
            assert f'value="{email}"' in full_page
            assert integrity(database) == "ok"

            (disk / "filler").unlink()
            again: list[int] = []
            for _ in range(20):
                again.append(signer.sign(first_name="Zoë", email=email)[0])
                if again[-1] == 303:
                    break
            assert again[-1] == 303, again
            assert serve.poll() is None  # no restart
        finally:
            output = stop_serve(serve)

        acknowledged = {e for e, status in answers.items() if status == 303} | {email}
        written = set(
            sqlite3.connect(database)
            .execute(
                "SELECT p.email FROM petitions_signature s JOIN members_person p"
                " ON p.id = s.person_id WHERE s.petition_id = ?",
                (petition.pk,),
            )
            .fetchall()
        )
        assert {e for (e,) in written} >= acknowledged | {"before@example.org"}
        assert integrity(database) == "ok"
        assert "Traceback" not in output
