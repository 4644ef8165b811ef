from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

GROUNDSWELL = str(Path(sys.executable).with_name("groundswell"))


class TestCreateSuperuser:
    def test_it_creates_a_staff_login_without_questions(self, db, monkeypatch):
        monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "Worms-are-great-42")
        call_command(
            "createsuperuser", interactive=False, username="alice", email="alice@example.org"
        )
        alice = authenticate(username="alice", password="Worms-are-great-42")
        assert alice is not None
        assert alice.is_staff and alice.is_superuser

    def test_its_login_opens_the_admin(self, client, db, monkeypatch):
        monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "Worms-are-great-42")
        call_command(
            "createsuperuser", interactive=False, username="alice", email="alice@example.org"
        )
        assert client.login(username="alice", password="Worms-are-great-42")
        response = client.get(reverse("admin:index"))
        assert response.status_code == 200
        assert "Campaigns, people and consent" in response.text

    @pytest.mark.slow
    def test_it_works_from_the_console_script(self, tmp_path):
        env = {
            **os.environ,
            "GROUNDSWELL_DATA_DIR": str(tmp_path),
            "DATABASE_URL": f"sqlite:///{tmp_path}/staff.sqlite3",
            "DJANGO_SUPERUSER_PASSWORD": "Worms-are-great-42",
        }
        subprocess.run([GROUNDSWELL, "migrate", "-v0"], env=env, check=True, timeout=180)
        result = subprocess.run(
            [
                GROUNDSWELL,
                "createsuperuser",
                "--noinput",
                "--username",
                "alice",
                "--email",
                "a@x.org",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        assert "Superuser created successfully." in result.stdout
        check = subprocess.run(
            [
                GROUNDSWELL,
                "shell",
                "-c",
                "from django.contrib.auth import authenticate;"
                "print(authenticate(username='alice', password='Worms-are-great-42').is_staff)",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert check.stdout.strip().splitlines()[-1] == "True", check.stderr


class TestStaffPasswords:
    @pytest.mark.parametrize(
        "weak, because",
        [
            ("Wm4!x", "too short"),
            ("password123", "too common"),
            ("83920174655", "entirely numeric"),
        ],
    )
    def test_it_rejects_weak_passwords(self, weak, because):
        with pytest.raises(ValidationError) as error:
            validate_password(weak)
        assert because in " ".join(error.value.messages)

    def test_it_rejects_a_password_like_the_username(self, db):
        alice = User(username="alice.organiser", email="alice.organiser@example.org")
        with pytest.raises(ValidationError, match="too similar"):
            validate_password("alice.organiser1", user=alice)

    def test_it_accepts_a_long_unusual_password(self, db):
        validate_password("Worms-are-great-42", user=User(username="alice"))

    def test_the_admin_password_form_uses_the_validators(self, alice_client, alice):
        url = reverse("admin:auth_user_password_change", args=[alice.pk])
        response = alice_client.post(url, {"password1": "password123", "password2": "password123"})
        assert response.status_code == 200
        assert "This password is too common." in response.text
        alice.refresh_from_db()
        assert alice.check_password("Worms-are-great-42")
