"""`groundswell help` and `--version` work on a fresh machine; real commands still need a secret."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import free_port

GROUNDSWELL = str(Path(sys.executable).with_name("groundswell"))


def run_fresh(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """The console script as a new user first runs it: an empty directory, nothing configured."""
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    return subprocess.run(
        [GROUNDSWELL, *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.slow
class TestHelpWithoutConfiguration:
    @pytest.mark.parametrize("args", [[], ["help"], ["--help"], ["-h"]])
    def test_it_lists_the_commands(self, tmp_path, args):
        result = run_fresh(tmp_path, *args)
        assert result.returncode == 0, result.stderr
        assert "configuration error" not in result.stderr
        assert "[groundswell]" in result.stdout
        for command in ("demo", "serve", "worker", "member_link", "migrate"):
            assert f"    {command}\n" in result.stdout

    @pytest.mark.parametrize(
        "args, command",
        [
            (["help", "serve"], "serve"),
            (["serve", "--help"], "serve"),
            (["worker", "-h"], "worker"),
        ],
    )
    def test_it_explains_one_command(self, tmp_path, args, command):
        result = run_fresh(tmp_path, *args)
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(f"usage: groundswell {command} ")

    @pytest.mark.parametrize("flag", ["--version", "version"])
    def test_it_says_which_version_runs(self, tmp_path, flag):
        result = run_fresh(tmp_path, flag)
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("groundswell 0.1.0 (Django 5.2.")

    def test_it_checks_for_missing_migrations(self, tmp_path):
        result = run_fresh(tmp_path, "makemigrations", "--check", "--dry-run")
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "No changes detected"

    def test_it_leaves_the_directory_as_it_was(self, tmp_path):
        run_fresh(tmp_path, "help")
        run_fresh(tmp_path, "--version")
        assert sorted(path.name for path in tmp_path.iterdir()) == []


@pytest.mark.slow
class TestCommandsStillNeedASecret:
    @pytest.mark.parametrize(
        "args",
        [
            ["check"],
            ["worker", "--burst"],
            ["serve", "--bind", "127.0.0.1:{port}"],
            ["shell", "-c", "print('ran')"],
        ],
    )
    def test_it_stops_naming_secret_key(self, tmp_path, args):
        args = [arg.format(port=free_port()) for arg in args]
        result = run_fresh(tmp_path, *args)
        assert result.returncode == 2, result.stdout + result.stderr
        assert "groundswell: configuration error: SECRET_KEY must be set" in result.stderr
        assert "ran" not in result.stdout
