"""Configuration fails loudly: a bad variable stops `groundswell` with its name, exit 2."""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from groundswell.lib.signing import legacy_suppression_keys

ROOT = Path(__file__).resolve().parent.parent
GROUNDSWELL = str(Path(sys.executable).with_name("groundswell"))
SETTINGS = ROOT / "src" / "groundswell" / "settings.py"
# settings.py's sections kept in modules of their own, each imported by it by name.
SECTIONS = ROOT / "src" / "groundswell" / "settings_sections"
DOCS = ROOT / "docs" / "configuration.md"


def run_groundswell(
    tmp_path: Path, *args: str, **changes: str | None
) -> subprocess.CompletedProcess:
    env = {**os.environ, "GROUNDSWELL_DATA_DIR": str(tmp_path / "data")}
    env.pop("GROUNDSWELL_DEMO", None)
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return subprocess.run(
        [GROUNDSWELL, *(args or ("check",))],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


BAD_VALUES = [
    ("SECRET_KEY", None, "SECRET_KEY must be set"),
    ("SECRET_KEY", "", "SECRET_KEY must be set"),
    ("SUPPRESSION_KEY", None, "SUPPRESSION_KEY must be set"),
    ("SUPPRESSION_KEY", "not-hex", "SUPPRESSION_KEY must be keys of 64 hexadecimal"),
    ("SUPPRESSION_KEY", "ab" * 32 + ",abc", "SUPPRESSION_KEY must be keys of 64 hexadecimal"),
    ("DATABASE_URL", "mysql://localhost/gs", "DATABASE_URL must start with postgres://"),
    ("DATABASE_URL", "postgres://db.local:fivefour/gs", "DATABASE_URL has a port"),
    ("DATABASE_URL", "postgres://db.local/", "DATABASE_URL must name a database"),
    ("DATABASE_URL", "sqlite://", "DATABASE_URL must name a file"),
    ("EMAIL_URL", "imap://mail.example.org", "EMAIL_URL must start with smtp://"),
    ("EMAIL_URL", "smtp://", "EMAIL_URL must name a host"),
    ("EMAIL_TIMEOUT", "soon", "EMAIL_TIMEOUT must be a whole number"),
    ("DEBUG", "maybe", "DEBUG must be one of"),
    ("BASE_URL", "act.example.org", "BASE_URL must be an absolute http(s) URL"),
    ("BASE_URL", "https://example.org/act", "BASE_URL must have no path"),
    ("TASKS_BACKEND", "celery", "TASKS_BACKEND must be 'database' or 'immediate'"),
    ("TIME_ZONE", "Mars/Olympus", "TIME_ZONE must be an IANA zone name"),
    ("LOG_LEVEL", "LOUD", "LOG_LEVEL must be"),
    ("GROUNDSWELL_BENCH_ENDPOINTS", "perhaps", "GROUNDSWELL_BENCH_ENDPOINTS must be one of"),
    ("MAILING_SEND_LANES", "0", "MAILING_SEND_LANES must be at least 1"),
    ("MAILING_RETURN_PATH", "bounces", "MAILING_RETURN_PATH must be an email address"),
    ("COUNT_CACHE_SECONDS", "soon", "COUNT_CACHE_SECONDS must be a whole number"),
    ("SIGN_GROUP_COMMIT", "perhaps", "SIGN_GROUP_COMMIT must be one of"),
    ("STAFF_REQUIRE_2FA", "sometimes", "STAFF_REQUIRE_2FA must be one of"),
]


@pytest.mark.slow
class TestStartUpWithBadConfiguration:
    @pytest.mark.parametrize("name, value, message", BAD_VALUES)
    def test_it_stops_naming_the_variable(self, tmp_path, name, value, message):
        result = run_groundswell(tmp_path, **{name: value})
        assert result.returncode == 2, result.stderr
        assert f"groundswell: configuration error: {message}" in result.stderr
        assert "Traceback" not in result.stderr

    def test_it_stops_when_the_data_dir_cannot_be_made(self, tmp_path):
        blocker = tmp_path / "a-file"
        blocker.write_text("not a directory")
        result = run_groundswell(tmp_path, GROUNDSWELL_DATA_DIR=str(blocker / "data"))
        assert result.returncode == 2
        assert "GROUNDSWELL_DATA_DIR" in result.stderr
        assert "Traceback" not in result.stderr

    def test_a_good_configuration_passes_the_checks(self, tmp_path):
        result = run_groundswell(
            tmp_path,
            BASE_URL="https://act.example.org",
            EMAIL_URL="smtp+tls://user:pw@mail.example.org",
            TIME_ZONE="Europe/London",
            DEBUG="off",
        )
        assert result.returncode == 0, result.stderr
        assert "System check identified no issues" in result.stdout

    def test_the_demo_makes_its_own_secret_and_keeps_it(self, tmp_path):
        code = "from django.conf import settings; print(settings.SECRET_KEY)"
        first = run_groundswell(
            tmp_path, "shell", "-c", code, SECRET_KEY=None, GROUNDSWELL_DEMO="1"
        )
        second = run_groundswell(
            tmp_path, "shell", "-c", code, SECRET_KEY=None, GROUNDSWELL_DEMO="1"
        )
        assert first.returncode == 0, first.stderr
        key = (tmp_path / "data" / "secret_key").read_text().strip()
        assert len(key) >= 50
        assert first.stdout.strip().splitlines()[-1] == key
        assert second.stdout.strip().splitlines()[-1] == key
        assert (tmp_path / "data" / "secret_key").stat().st_mode & 0o077 == 0

    def test_the_demo_takes_its_suppression_key_from_its_secret_once_and_keeps_it(self, tmp_path):
        code = "from django.conf import settings; print(','.join(settings.SUPPRESSION_KEYS))"
        demo = {"SECRET_KEY": None, "SUPPRESSION_KEY": None, "GROUNDSWELL_DEMO": "1"}
        first = run_groundswell(tmp_path, "shell", "-c", code, **demo)
        assert first.returncode == 0, first.stderr
        secret = (tmp_path / "data" / "secret_key").read_text().strip()
        stored = tmp_path / "data" / "suppression_key"
        assert first.stdout.strip().splitlines()[-1] == legacy_suppression_keys(secret, [])
        assert stored.stat().st_mode & 0o077 == 0
        (tmp_path / "data" / "secret_key").write_text("a-rotated-demo-secret-" + "k" * 40)
        second = run_groundswell(tmp_path, "shell", "-c", code, **demo)
        assert second.stdout.strip().splitlines()[-1] == legacy_suppression_keys(secret, [])

    def test_two_factor_is_required_of_administrators_except_in_the_demo(self, tmp_path):
        code = "from django.conf import settings; print(settings.STAFF_REQUIRE_2FA)"
        site = run_groundswell(tmp_path, "shell", "-c", code, STAFF_REQUIRE_2FA=None)
        demo = run_groundswell(
            tmp_path, "shell", "-c", code, STAFF_REQUIRE_2FA=None, GROUNDSWELL_DEMO="1"
        )
        assert site.returncode == 0, site.stderr
        assert site.stdout.strip().splitlines()[-1] == "True"
        assert demo.stdout.strip().splitlines()[-1] == "False"

    def test_suppression_key_prints_the_key_of_the_hashes_made_so_far(self, tmp_path):
        result = run_groundswell(
            tmp_path,
            "suppression_key",
            SECRET_KEY="old",
            SECRET_KEY_FALLBACKS="older",
            SUPPRESSION_KEY=None,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout == f"SUPPRESSION_KEY={legacy_suppression_keys('old', ['older'])}\n"


class TestConfigurationDocs:
    def test_every_variable_settings_reads_is_documented(self):
        sources = [SETTINGS, *sorted(SECTIONS.glob("*.py"))]
        text = "".join(path.read_text() for path in sources)
        names = set(re.findall(r'env_\w+\(\s*"([A-Z_]+)"', text))
        assert {"DATABASE_URL", "SECRET_KEY", "BASE_URL", "EMAIL_URL", "SIGN_LIMITS"} <= names
        documented = set(re.findall(r"^### `([A-Z_]+)`", DOCS.read_text(), re.MULTILINE))
        assert names - documented == set()


class TestSettingsSections:
    def test_every_setting_a_section_reads_is_on_django_settings(self):
        for path in sorted(SECTIONS.glob("[!_]*.py")):
            module = importlib.import_module(f"groundswell.settings_sections.{path.stem}")
            names = [name for name in vars(module) if name.isupper()]
            missing = [name for name in names if not hasattr(settings, name)]
            assert missing == [], f"settings.py does not import {missing} from {path.name}"
