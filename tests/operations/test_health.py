"""/healthz and /readyz: what a load balancer asks before sending signers to a node."""

from __future__ import annotations

import json
import shutil
import sqlite3
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from groundswell.operations.health import writer_problem
from tests.conftest import free_port
from tests.mailings.processes import database_url
from tests.operations.proxy import behind_proxy
from tests.petitions.test_writer_service import Running
from tests.serving import start_serve, stop_serve
from tests.waiting import wait_until


class TestHealthz:
    def test_it_says_ok_whatever_the_host_header(self, client: Client) -> None:
        # Load balancers ask by IP address, which ALLOWED_HOSTS does not list.
        response = client.get("/healthz", HTTP_HOST="10.1.2.3")

        assert response.status_code == 200
        assert response.json() == {"status": "ok"}
        assert "no-cache" in response["Cache-Control"]


# Committed transactions: on SQLite a test's own open transaction holds the write lock.
@pytest.mark.django_db(transaction=True)
class TestReadyz:
    def test_it_is_ready_with_the_database_answering_and_no_writer_to_wait_for(
        self, client: Client
    ) -> None:
        response = client.get("/readyz", HTTP_HOST="10.1.2.3")

        assert response.status_code == 200
        assert response.json() == {"status": "ok"}

    def test_it_is_not_ready_while_a_writer_this_data_directory_has_run_is_gone(
        self, short_data_dir: Path
    ) -> None:
        writer = Running()
        assert writer_problem() == ""

        writer.stop()

        assert writer_problem() == "not answering"

    def test_it_does_not_wait_for_a_writer_when_signatures_are_written_in_process(
        self, short_data_dir: Path, settings: Any
    ) -> None:
        Running().stop()
        settings.SIGN_GROUP_COMMIT = False

        assert writer_problem() == ""


@pytest.fixture
def short_data_dir(settings: Any) -> Iterator[Path]:
    # A Unix socket's path must stay under about 100 characters.
    path = Path(tempfile.mkdtemp(prefix="gs-h-"))
    settings.DATA_DIR = path
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _readyz(base: str) -> tuple[int, dict[str, str]]:
    try:
        with urllib.request.urlopen(f"{base}/readyz", timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
    except OSError:
        return 0, {}


METRICS_TOKEN = "readiness-test-token"


def _metrics(base: str) -> str:
    request = urllib.request.Request(
        f"{base}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return str(response.read().decode())


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_readyz_turns_503_while_the_database_is_gone_and_back_by_itself(
    tmp_path: Path,
) -> None:
    """A real server, a real database made unreachable: PostgreSQL through a proxy that
    the test takes away; SQLite locked by another process beyond the busy timeout."""
    url = database_url()
    proxy = None
    if connection.vendor == "postgresql":
        proxy, url = behind_proxy(url)
    data_dir = Path(tempfile.mkdtemp(prefix="gs-r-"))
    port = free_port()
    serve = start_serve(
        port,
        data_dir=data_dir,
        database_url=url,
        workers=1,
        threads=2,
        METRICS_TOKEN=METRICS_TOKEN,
    )
    base = f"http://127.0.0.1:{port}"
    lock: sqlite3.Connection | None = None
    try:
        wait_until(lambda: _readyz(base)[0] == 200, 60, "the server to be ready")

        if proxy is not None:
            proxy.stop()
        else:
            lock = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
            lock.execute("BEGIN IMMEDIATE")
        status, reasons = _readyz(base)

        assert status == 503
        assert reasons["status"] == "unavailable"
        expected = "unreachable" if proxy is not None else "locked by another process"
        assert reasons["database"].startswith(expected)
        assert "127.0.0.1" not in json.dumps(reasons)  # nothing about the host
        # The processes' own counters are still served; the database's figures are not.
        readable = "groundswell_database_readable 0.0" if proxy else "readable 1.0"
        assert readable in _metrics(base)

        if proxy is not None:
            proxy.start()
        else:
            assert lock is not None
            lock.execute("ROLLBACK")
        wait_until(lambda: _readyz(base) == (200, {"status": "ok"}), 20, "ready again")
        assert "groundswell_database_readable 1.0" in _metrics(base)
        assert serve.poll() is None  # no restart
    finally:
        if lock is not None:
            lock.close()
        stop_serve(serve)
        if proxy is not None:
            proxy.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
