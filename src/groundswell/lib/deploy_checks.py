"""`groundswell check --deploy`: our own checks of a production configuration, next to
Django's. Each dangerous setting is an Error, so the command fails (exit 1) and names
the variable to change; a sound production configuration passes."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register

# Shorter keys, or keys copied from an example, can be guessed or are known to others.
MIN_SECRET_KEY_LENGTH = 50
# Values that appear in our docs, Makefile and tests: never a real key.
KNOWN_EXAMPLE_KEYS = {
    "x",
    "typecheck",
    "migrations-check",
    "changeme",
    "secret",
    'a-long-random-string-from-python3 -c "import secrets; print(secrets.token_urlsafe(50))"',
}
LOCAL_HOSTS = {"", "localhost", "127.0.0.1", "::1", "[::1]", "0.0.0.0"}  # noqa: S104


def register_checks() -> None:
    register(check_production_settings, Tags.security, deploy=True)


def check_production_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    problems: list[CheckMessage] = []
    if settings.DEBUG:
        problems.append(
            Error(
                "DEBUG is on: error pages would show settings, code and personal data.",
                hint="Unset DEBUG (or set DEBUG=0) for a public site.",
                id="groundswell.E001",
            )
        )
    key = settings.SECRET_KEY
    if (
        len(key) < MIN_SECRET_KEY_LENGTH
        or len(set(key)) < 5
        or key in KNOWN_EXAMPLE_KEYS
        or key.startswith("django-insecure")
    ):
        problems.append(
            Error(
                f"SECRET_KEY is an example or shorter than {MIN_SECRET_KEY_LENGTH} "
                "characters: signed cookies and member links could be forged.",
                hint='Set SECRET_KEY to python3 -c "import secrets; '
                'print(secrets.token_urlsafe(50))" (keep the old one in SECRET_KEY_FALLBACKS).',
                id="groundswell.E002",
            )
        )
    base = urlsplit(settings.BASE_URL)
    if base.scheme != "https":
        problems.append(
            Error(
                f"BASE_URL is {settings.BASE_URL!r}: sign-ins, cookies and signers' data "
                "would cross the network unencrypted.",
                hint="Serve the site over https and set BASE_URL=https://your.domain.",
                id="groundswell.E003",
            )
        )
    hosts = [h for h in settings.ALLOWED_HOSTS if h not in LOCAL_HOSTS]
    if not hosts or "*" in settings.ALLOWED_HOSTS:
        problems.append(
            Error(
                "ALLOWED_HOSTS names no public host (or allows any): the Host header "
                "would decide the links in emails and password pages.",
                hint="Set BASE_URL to the public address (its host is allowed) and list any "
                "other names in ALLOWED_HOSTS; never '*'.",
                id="groundswell.E004",
            )
        )
    return problems
