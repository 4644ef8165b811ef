"""Groundswell's configuration, read once from the environment.

Every variable is listed in docs/configuration.md. A value we cannot use stops
start-up with a message naming the variable.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from groundswell.lib.env import (
    ConfigurationError,
    env_base_url,
    env_bool,
    env_choice,
    env_hex_keys,
    env_int,
    env_list,
    env_networks,
    env_path,
    env_str,
    is_reading_code_only,
    parse_database_url,
    parse_email_url,
    sqlite_database,
)
from groundswell.lib.signing import SUPPRESSION_KEY_HEX_LENGTH, legacy_suppression_keys

PACKAGE_DIR = Path(__file__).resolve().parent

DATA_DIR = env_path("GROUNDSWELL_DATA_DIR", "./var")
try:
    if not is_reading_code_only():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
except OSError as error:
    raise ConfigurationError(
        f"GROUNDSWELL_DATA_DIR {str(DATA_DIR)!r} cannot be created: {error.strerror}."
    ) from None

DEBUG = env_bool("DEBUG", False)
# Set by `groundswell demo` only: lets the demo make and keep its own secret.
DEMO_MODE = env_bool("GROUNDSWELL_DEMO", False)


def _secret_key() -> str:
    try:
        return env_str("SECRET_KEY")
    except ConfigurationError:
        if is_reading_code_only():
            # Django refuses every use of an empty key, so nothing can sign with it.
            return ""
        if not DEMO_MODE:
            raise ConfigurationError(
                "SECRET_KEY must be set (a long random string; `groundswell demo` makes its own)."
            ) from None
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
# Older keys, comma-separated: tokens and signed cookies made with them still verify.
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS")


def _suppression_keys() -> list[str]:
    keys = env_hex_keys("SUPPRESSION_KEY", length=SUPPRESSION_KEY_HEX_LENGTH)
    if keys:
        return keys
    if is_reading_code_only():
        return []
    if not DEMO_MODE:
        raise ConfigurationError(
            "SUPPRESSION_KEY must be set: `groundswell suppression_key` prints the value that "
            "keeps today's suppressions (docs/configuration.md, Keys)."
        )
    key_file = DATA_DIR / "suppression_key"
    if not key_file.exists():
        # Taken once from the demo's keys, so suppressions it already made still match.
        key_file.write_text(legacy_suppression_keys(SECRET_KEY, SECRET_KEY_FALLBACKS))
        key_file.chmod(0o600)
    return key_file.read_text().strip().split(",")


# Keys of the suppression list's hashes: never rotated with SECRET_KEY (lib/signing.py).
SUPPRESSION_KEYS = _suppression_keys()

BASE_URL = env_base_url("BASE_URL", "http://127.0.0.1:8000")
_base = urlsplit(BASE_URL)
ALLOWED_HOSTS = [_base.hostname or "", *env_list("ALLOWED_HOSTS")]
if DEBUG or DEMO_MODE:
    ALLOWED_HOSTS += ["127.0.0.1", "localhost"]
CSRF_TRUSTED_ORIGINS = [f"{_base.scheme}://{_base.netloc}"]
CSRF_FAILURE_VIEW = "groundswell.lib.errors.csrf_failure"
if _base.scheme == "https":
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Sent only on answers over https (SecurityMiddleware); a year unless set, 0 turns it off.
SECURE_HSTS_SECONDS = env_int(
    "HSTS_SECONDS", 365 * 24 * 3600 if _base.scheme == "https" else 0, minimum=0
)
# Over https, a plain-http request is sent to https (the proxy sets X-Forwarded-Proto;
# /healthz and /metrics answer before this, for load balancers asking by IP address).
SECURE_SSL_REDIRECT = _base.scheme == "https"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SILENCED_SYSTEM_CHECKS = [
    # HSTS for every subdomain, and the browsers' preload list, bind the organisation's
    # whole domain, which Groundswell does not own: its operator may add them at the proxy.
    "security.W005",
    "security.W021",
]

_database_url = env_str("DATABASE_URL", "")
# SQLite: how long a write waits for another process's lock before it gives up (a
# signer then gets the 503 page with the form kept, not a page that hangs).
_sqlite_timeout = env_int("SQLITE_BUSY_TIMEOUT_SECONDS", 20, minimum=1)
DATABASES = {
    "default": (
        parse_database_url("DATABASE_URL", _database_url, sqlite_timeout=_sqlite_timeout)
        if _database_url
        else sqlite_database(DATA_DIR / "groundswell.sqlite3", timeout=_sqlite_timeout)
    )
}
# PgBouncer (or another pooler) in transaction mode between us and PostgreSQL: no
# server-side cursors, no statements kept prepared on the server (lib/db.py
# bind_on_server), as each transaction may get another server connection.
DATABASE_TRANSACTION_POOLING = env_bool("DATABASE_TRANSACTION_POOLING", False)
if DATABASE_TRANSACTION_POOLING:
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Signers of petitions closed this many months ago are anonymised by
# `groundswell anonymise_signatures` (run it daily from cron).
ANONYMISE_AFTER_MONTHS = env_int("ANONYMISE_AFTER_MONTHS", 6, minimum=1)

# The public count: recounted by a reader once it is this many seconds old, and kept by
# each process this long (petitions/counter.py). Their sum is how far behind it can be.
COUNT_REFRESH_SECONDS = env_int("COUNT_REFRESH_SECONDS", 4, minimum=0)
COUNT_CACHE_SECONDS = env_int("COUNT_CACHE_SECONDS", 2, minimum=0)

# Clicks and opens are buffered in memory and written in batches (tracking/buffer.py).
TRACKING_FLUSH_SECONDS = env_int("TRACKING_FLUSH_SECONDS", 1, minimum=1)
TRACKING_BATCH_SIZE = env_int("TRACKING_BATCH_SIZE", 500, minimum=1)
TRACKING_MAX_PENDING = env_int("TRACKING_MAX_PENDING", 100_000, minimum=1)
# Off: no writer thread; events wait for flush_all() or a normal exit (one-shot
# processes; the tests, which write inside their own transaction).
TRACKING_BACKGROUND_FLUSHES = env_bool("TRACKING_BACKGROUND_FLUSHES", True)

# Signatures arriving together in a server process are written in one transaction
# (petitions/writer.py). Off: each request writes its own, as tests inside a
# transaction always do.
SIGN_GROUP_COMMIT = env_bool("SIGN_GROUP_COMMIT", True)

# Defences on signing and on the forms that send email (docs/security.md), read by
# settings_sections/defences.py. Imported here, not at the top, so variables are still
# checked in the order this file lists them.
from groundswell.settings_sections.defences import (  # noqa: E402, F401
    EMAIL_REQUEST_LIMITS,
    SIGN_BLOCK_DISPOSABLE,
    SIGN_BLOCKED_DOMAINS,
    SIGN_CONFIRM_BY_EMAIL,
    SIGN_CONFIRM_DAYS,
    SIGN_LIMITS,
    SIGN_LIMITS_EXEMPT_DOMAINS,
    SIGN_MIN_SECONDS,
    SIGN_PROOF_OF_WORK,
    SIGN_PROOF_OF_WORK_BITS,
    THANK_YOU_EMAILS_PER_DAY,
)

# Baseline endpoints for bench/sign.py under /bench/; never on in production.
BENCH_ENDPOINTS = env_bool("GROUNDSWELL_BENCH_ENDPOINTS", False)

# Reverse proxies in front of the site (docs/configuration.md): only a connection from
# one of these has its X-Forwarded-For believed, for consent records, clicks, the
# audit log and sign-in limits alike (lib/clients.py). Empty: the connection's address.
TRUSTED_PROXIES = env_networks("TRUSTED_PROXIES")

# /metrics (docs/operations.md): off unless an address list or a token is set. The
# address is the connection's own; a request through a reverse proxy needs the token.
METRICS_ALLOW = env_networks("METRICS_ALLOW")
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
# Each process's counters, added up by /metrics (lib/metrics.py).
METRICS_DIR = DATA_DIR / "metrics"
if not is_reading_code_only():
    METRICS_DIR.mkdir(exist_ok=True)

# Retention (docs/configuration.md): the hourly pruning task blanks the IP address and
# browser of clicks and opens, and deletes finished task rows, once this old.
TRACKING_DETAILS_RETENTION_DAYS = env_int("TRACKING_DETAILS_RETENTION_DAYS", 30, minimum=1)
TASK_RESULTS_RETENTION_HOURS = env_int("TASK_RESULTS_RETENTION_HOURS", 24, minimum=1)
# A signature's client network (the rate limits read a day of it, the trust page a
# month): blanked after this many days. The signature and its email domain stay.
SIGNATURE_NETWORK_RETENTION_DAYS = env_int("SIGNATURE_NETWORK_RETENTION_DAYS", 30, minimum=2)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "groundswell",
    "groundswell.limits",
    "groundswell.orgs",
    "groundswell.members",
    "groundswell.petitions",
    "groundswell.mailings",
    "groundswell.tracking",
    "groundswell.bounces",
    "groundswell.workspace",
]

MIDDLEWARE = [
    # First: an id for the request's log lines, the count of every answer, then
    # /healthz, /readyz and /metrics before the Host check (asked by IP address).
    "groundswell.operations.middleware.RequestIds",
    "groundswell.operations.middleware.ResponseMetrics",
    "groundswell.operations.middleware.OperationsEndpoints",
    "groundswell.operations.middleware.DatabaseAway",
    "django.middleware.security.SecurityMiddleware",
    # Before XFrameOptionsMiddleware (answers pass through it first): frame-ancestors
    # follows the X-Frame-Options chosen for the page.
    "groundswell.lib.headers.SecurityHeaders",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # After OTPMiddleware: keeps staff who owe a second step off staff pages and the admin.
    "groundswell.workspace.twofactor_guard.TwoFactorGuard",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, just before the view: its 400 page gets every header the others add.
    "groundswell.lib.nul_bytes.NulBytesRefused",
]

ROOT_URLCONF = "groundswell.urls"
WSGI_APPLICATION = "groundswell.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    }
]

LOGIN_URL = "/staff/login/"
# Staff sessions end after this long without a request (each request starts it again).
SESSION_COOKIE_AGE = 60 * env_int("STAFF_SESSION_IDLE_MINUTES", 30, minimum=5)
SESSION_SAVE_EVERY_REQUEST = True
# Database sessions whose renewal on a page load never waits for another writer.
SESSION_ENGINE = "groundswell.workspace.sessions"
SESSION_COOKIE_HTTPONLY = True
# Administrators and owners must set up a code app before they see any staff page (the
# demo turns it off so its printed logins work with a password alone).
STAFF_REQUIRE_2FA = env_bool("STAFF_REQUIRE_2FA", not DEMO_MODE)
# The name a code app shows beside the user's entry.
OTP_TOTP_ISSUER = f"Groundswell {_base.hostname}"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
try:
    ZoneInfo(TIME_ZONE)
except (ValueError, ZoneInfoNotFoundError):
    raise ConfigurationError(
        f"TIME_ZONE must be an IANA zone name such as Europe/London; got {TIME_ZONE!r}."
    ) from None
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
if not is_reading_code_only():
    STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
# Served straight from the package by whitenoise: no collectstatic step to forget.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
WHITENOISE_MAX_AGE = 3600

MEDIA_URL = "/media/"
MEDIA_ROOT = DATA_DIR / "media"

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "groundswell",
    }
}

_tasks_backend = env_choice("TASKS_BACKEND", "database", ["database", "immediate"])
TASKS = {
    "default": {
        "BACKEND": (
            "django_tasks_db.DatabaseBackend"
            if _tasks_backend == "database"
            else "django_tasks.backends.immediate.ImmediateBackend"
        ),
    }
}

_email = parse_email_url("EMAIL_URL", env_str("EMAIL_URL", "smtp://127.0.0.1:1025"))
EMAIL_BACKEND = _email.backend
EMAIL_HOST = _email.host
EMAIL_PORT = _email.port
EMAIL_HOST_USER = _email.username
EMAIL_HOST_PASSWORD = _email.password
EMAIL_USE_TLS = _email.use_tls
EMAIL_USE_SSL = _email.use_ssl
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", f"Groundswell <noreply@{_base.hostname}>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Sending mailings (docs/sending.md): lanes per mailing, and the envelope sender that
# receives bounces (empty: the mailing's From address).
MAILING_SEND_LANES = env_int("MAILING_SEND_LANES", 2, minimum=1)
MAILING_RETURN_PATH = env_str("MAILING_RETURN_PATH", "")
if MAILING_RETURN_PATH and "@" not in MAILING_RETURN_PATH.strip("@"):
    raise ConfigurationError(
        f"MAILING_RETURN_PATH must be an email address; got {MAILING_RETURN_PATH!r}."
    )

# DKIM signing of mailings (docs/mailings.md): all three or none.
DKIM_SELECTOR = env_str("DKIM_SELECTOR", "")
DKIM_DOMAIN = env_str("DKIM_DOMAIN", "")
DKIM_PRIVATE_KEY_PATH = env_str("DKIM_PRIVATE_KEY_PATH", "")
_dkim = {"DKIM_SELECTOR": DKIM_SELECTOR, "DKIM_DOMAIN": DKIM_DOMAIN}
_dkim["DKIM_PRIVATE_KEY_PATH"] = DKIM_PRIVATE_KEY_PATH
if any(_dkim.values()) and not all(_dkim.values()):
    raise ConfigurationError(
        "DKIM_SELECTOR, DKIM_DOMAIN and DKIM_PRIVATE_KEY_PATH must be set together; missing: "
        + ", ".join(name for name, value in _dkim.items() if not value)
        + "."
    )
if DKIM_PRIVATE_KEY_PATH and not Path(DKIM_PRIVATE_KEY_PATH).is_file():
    raise ConfigurationError(
        f"DKIM_PRIVATE_KEY_PATH {DKIM_PRIVATE_KEY_PATH!r} is not a readable file."
    )

# Bounce and complaint webhooks (/webhooks/anymail/<provider>/tracking/, see
# docs/bounces.md). Unset, each gets an unguessable value, so the webhooks refuse
# every request instead of trusting anyone who posts to them.
ANYMAIL = {
    # USER:PASSWORD pairs, comma-separated so they can be rotated.
    "WEBHOOK_SECRET": env_list("ANYMAIL_WEBHOOK_SECRET") or [secrets.token_urlsafe(32)],
    "MAILGUN_WEBHOOK_SIGNING_KEY": (
        env_str("MAILGUN_WEBHOOK_SIGNING_KEY", "") or secrets.token_urlsafe(32)
    ),
}

_log_level = env_choice(
    "LOG_LEVEL", "INFO", ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], upper=True
)
# json: one JSON object a line, with request ids and no personal data (lib/logs.py).
_log_format = env_choice("LOG_FORMAT", "plain", ["plain", "json"])
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {"()": "groundswell.lib.logs.JsonLines"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": _log_format}},
    "root": {"handlers": ["console"], "level": _log_level},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
