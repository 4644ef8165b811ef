"""`groundswell serve`: what it refuses, and how many threads it gives each worker."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from groundswell.management.commands.serve import default_threads


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
