"""`groundswell serve`: what it refuses."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError


def test_it_refuses_a_bind_address_without_a_port() -> None:
    with pytest.raises(CommandError, match="HOST:PORT"):
        call_command("serve", "--bind", "localhost")


def test_it_refuses_no_workers() -> None:
    with pytest.raises(CommandError, match="--workers must be at least 1"):
        call_command("serve", "--workers", "0")


def test_it_refuses_a_negative_thread_count() -> None:
    with pytest.raises(CommandError, match="--threads must be at least 1"):
        call_command("serve", "--threads", "-1")
