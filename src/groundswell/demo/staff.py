"""The demo's staff login: made once, its password kept in the data directory."""

from __future__ import annotations

import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

STAFF_USERNAME = "staff"


def password_file() -> Path:
    return Path(settings.DATA_DIR) / "staff_password"


def ensure_demo_staff() -> tuple[str, str]:
    """The staff superuser's username and password, creating either if missing.

    The password we print must work, so a password changed since (in the admin)
    is set back to the stored one: this account exists only in the demo.
    """
    path = password_file()
    if not path.exists():
        path.write_text(secrets.token_urlsafe(12) + "\n")
        path.chmod(0o600)
    password = path.read_text().strip()
    user_model = get_user_model()
    with transaction.atomic():
        user = user_model.objects.filter(username=STAFF_USERNAME).first()
        if user is None:
            user_model.objects.create_superuser(STAFF_USERNAME, "staff@example.org", password)
        elif not (user.check_password(password) and user.is_active and user.is_superuser):
            user.set_password(password)
            user.is_active = user.is_staff = user.is_superuser = True
            user.save()
    return STAFF_USERNAME, password
