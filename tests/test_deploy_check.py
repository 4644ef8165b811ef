"""`groundswell check --deploy` passes for a production configuration and fails loudly,
naming what to change, for a dangerous one."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from tests.test_settings import run_groundswell

PRODUCTION: dict[str, str | None] = {
    # Set by the browser tests' Playwright fixtures in this test process; never in
    # production, and Django's own deploy check refuses it.
    "DJANGO_ALLOW_ASYNC_UNSAFE": None,
    "SECRET_KEY": secrets.token_urlsafe(50),
    "BASE_URL": "https://act.example.org",
    "DEBUG": "0",
    "ALLOWED_HOSTS": "",
}


def check_deploy(tmp_path: Path, **changes: str | None):
    (tmp_path / "data" / "metrics").mkdir(parents=True, exist_ok=True)
    return run_groundswell(tmp_path, "check", "--deploy", **{**PRODUCTION, **changes})


def test_it_passes_for_a_production_configuration(tmp_path: Path) -> None:
    result = check_deploy(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"DEBUG": "1"}, "groundswell.E001"),
        ({"SECRET_KEY": "x"}, "groundswell.E002"),
        ({"SECRET_KEY": "short-but-random-9f2c1e4b"}, "groundswell.E002"),
        ({"BASE_URL": "http://act.example.org"}, "groundswell.E003"),
        ({"BASE_URL": "https://localhost"}, "groundswell.E004"),
        ({"ALLOWED_HOSTS": "*"}, "groundswell.E004"),
    ],
)
def test_it_fails_loudly_for_a_dangerous_one(
    tmp_path: Path, changes: dict[str, str], error: str
) -> None:
    result = check_deploy(tmp_path, **changes)
    assert result.returncode != 0
    assert error in result.stderr
    assert "HINT" in result.stderr
