"""`groundswell serve`: what it refuses, how many threads it gives each worker, and what
it says as it starts."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from groundswell.management.commands.serve import default_threads
from tests.conftest import free_port
from tests.mailings.processes import database_url
from tests.serving import start_serve, stop_serve, wait_until_ready


def test_it_refuses_a_bind_address_without_a_port() -> None:
    with pytest.raises(CommandError, match="HOST:PORT"):
        call_command("serve", "--bind", "localhost")


def test_it_refuses_no_workers() -> None:
    with pytest.raises(CommandError, match="--workers must be at least 1"):
        call_command("serve", "--workers", "0")


def test_it_refuses_a_negative_thread_count() -> None:
    with pytest.raises(CommandError, match="--threads must be at least 1"):
        call_command("serve", "--threads", "-1")


def test_on_postgresql_its_default_threads_keep_every_worker_within_80_connections() -> None:
    workers = [1, 3, 9, 17, 40]
    threads = [default_threads(n) for n in workers]

    if connection.vendor == "postgresql":
        assert threads == [16, 16, 8, 4, 4]
        assert all(n * t <= 80 for n, t in zip(workers[:4], threads[:4], strict=True))
    else:
        assert threads == [16] * 5  # SQLite: a connection is an open file


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_it_starts_without_warning_about_its_own_thread_count(tmp_path: Path) -> None:
    """Granian warns when a worker's threads pass 2 x cores + 1, as the default 16 do
    on a small machine; they are meant, so a new user's first start shows no warning."""
    port = free_port()
    serve = start_serve(port, data_dir=tmp_path, database_url=database_url(), workers=1)
    try:
        wait_until_ready(f"http://127.0.0.1:{port}")
    finally:
        output = stop_serve(serve)

    assert "Listening at" in output
    assert "WARNING" not in output
