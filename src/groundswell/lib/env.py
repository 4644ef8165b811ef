"""Typed readers for configuration that fail loudly, naming the variable.

settings.py calls these once at start-up; nothing else reads os.environ.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from groundswell.lib.limits import LimitSyntaxError, Rule, parse_limits

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


class ConfigurationError(Exception):
    """A variable in the environment has a value we cannot use."""


# Set by the console script for help and --version (cli.py): they only read code, so
# settings ask for no secret and create no directory while it is on.
_reading_code_only = False


def read_code_only() -> None:
    global _reading_code_only
    _reading_code_only = True


def is_reading_code_only() -> bool:
    return _reading_code_only


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name)
    if value is None or value == "":
        if default is None:
            raise ConfigurationError(f"{name} must be set.")
        return default
    return value


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ConfigurationError(
        f"{name} must be one of 1/0, true/false, yes/no, on/off; got {value!r}."
    )


def env_int(
    name: str, default: int, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        number = int(value.strip())
    except ValueError:
        raise ConfigurationError(f"{name} must be a whole number; got {value!r}.") from None
    if minimum is not None and number < minimum:
        raise ConfigurationError(f"{name} must be at least {minimum}; got {number}.")
    if maximum is not None and number > maximum:
        raise ConfigurationError(f"{name} must be at most {maximum}; got {number}.")
    return number


def env_choice(name: str, default: str, choices: Iterable[str], *, upper: bool = False) -> str:
    """One of `choices`; `upper` folds the value's case first (LOG_LEVEL=info)."""
    allowed = list(choices)
    value = env_str(name, default).strip()
    if upper:
        value = value.upper()
    if value not in allowed:
        raise ConfigurationError(f"{name} must be {_one_of(allowed)}; got {value!r}.")
    return value


def env_list(name: str, default: Iterable[str] = ()) -> list[str]:
    """Comma-separated values, each stripped; empty items are dropped."""
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_hex_keys(name: str, *, length: int) -> list[str]:
    """Comma-separated keys of `length` hexadecimal characters each; never echoed in errors."""
    keys = env_list(name)
    for number, key in enumerate(keys, start=1):
        if len(key) != length or any(c not in "0123456789abcdefABCDEF" for c in key):
            raise ConfigurationError(
                f"{name} must be keys of {length} hexadecimal characters, comma-separated; "
                f"key {number} has {len(key)} characters or a non-hexadecimal one."
            )
    return [key.lower() for key in keys]


def _one_of(choices: list[str]) -> str:
    quoted = [repr(choice) for choice in choices]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def env_path(name: str, default: str) -> Path:
    return Path(env_str(name, default)).expanduser().resolve()


def env_base_url(name: str, default: str) -> str:
    value = env_str(name, default).rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            f"{name} must be an absolute http(s) URL, e.g. https://act.example.org; got {value!r}."
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ConfigurationError(f"{name} must have no path, query or fragment; got {value!r}.")
    return value


def parse_database_url(name: str, url: str, *, sqlite_timeout: int = 20) -> dict[str, object]:
    """Turn postgres://user:pass@host:port/db?opt=val into Django's DATABASES entry."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "sqlite"):
        raise ConfigurationError(
            f"{name} must start with postgres://, postgresql:// or sqlite://; got {parts.scheme!r}."
        )
    if parts.scheme == "sqlite":
        path = unquote(parts.path)
        if not path or path == "/":
            raise ConfigurationError(f"{name} must name a file, e.g. sqlite:////srv/gs/db.sqlite3.")
        return sqlite_database(Path(path), timeout=sqlite_timeout)
    name_in_url = unquote(parts.path.lstrip("/"))
    if not name_in_url:
        raise ConfigurationError(f"{name} must name a database, e.g. postgres://host/groundswell.")
    try:
        port = parts.port
    except ValueError:
        raise ConfigurationError(f"{name} has a port that is not a number.") from None
    options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name_in_url,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(port or ""),
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": options,
    }


SQLITE_INIT = (
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "PRAGMA foreign_keys=ON;"
    "PRAGMA temp_store=MEMORY;"
    "PRAGMA mmap_size=134217728;"
    "PRAGMA cache_size=-20000;"
)


def sqlite_database(path: Path, *, timeout: int = 20) -> dict[str, object]:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        # Keep connections: opening one runs the PRAGMAs and closing the last one
        # checkpoints the WAL, a cost on every request (docs/performance.md).
        "CONN_MAX_AGE": 600,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {
            # Writers queue on the busy timeout instead of failing when a read
            # transaction would have to upgrade to a write lock.
            "transaction_mode": "IMMEDIATE",
            "timeout": timeout,
            "init_command": SQLITE_INIT,
        },
        # Tests use a real file too: WAL, locking and threads behave as in production.
        "TEST": {"NAME": str(path.with_name(path.stem + "-test.sqlite3"))},
    }


@dataclass(frozen=True)
class EmailConfig:
    backend: str
    host: str = ""
    port: int = 0
    username: str = ""
    password: str = ""
    use_tls: bool = False
    use_ssl: bool = False


def parse_email_url(name: str, url: str) -> EmailConfig:
    """smtp://host:port, smtp+tls://user:pass@host:port, smtps://…, console://, memory://."""
    parts = urlsplit(url)
    scheme = parts.scheme
    if scheme == "console":
        return EmailConfig(backend="django.core.mail.backends.console.EmailBackend")
    if scheme == "memory":
        return EmailConfig(backend="django.core.mail.backends.locmem.EmailBackend")
    if scheme not in ("smtp", "smtp+tls", "smtps"):
        raise ConfigurationError(
            f"{name} must start with smtp://, smtp+tls://, smtps:// or console://; got {url!r}."
        )
    if not parts.hostname:
        raise ConfigurationError(f"{name} must name a host, e.g. smtp://127.0.0.1:1025.")
    try:
        port = parts.port
    except ValueError:
        raise ConfigurationError(f"{name} has a port that is not a number.") from None
    default_port = {"smtp": 25, "smtp+tls": 587, "smtps": 465}[scheme]
    return EmailConfig(
        backend="django.core.mail.backends.smtp.EmailBackend",
        host=parts.hostname,
        port=port or default_port,
        username=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        use_tls=scheme == "smtp+tls",
        use_ssl=scheme == "smtps",
    )


def env_networks(name: str) -> list[IPv4Network | IPv6Network]:
    """Comma-separated IP addresses or networks (192.0.2.7, 10.0.0.0/8, ::1)."""
    networks = []
    for item in env_list(name):
        try:
            networks.append(ip_network(item, strict=False))
        except ValueError:
            raise ConfigurationError(
                f"{name} must be IP addresses or networks such as 10.0.0.0/8, "
                f"comma-separated; got {item!r}."
            ) from None
    return networks


def env_limits(name: str, default: str, keys: Iterable[str]) -> dict[str, Rule]:
    """Rate limits in lib/limits.py's syntax (`network=100/10m,1000/24h; ...` or
    `off`); a key the value leaves out keeps its default."""
    defaults = parse_limits(default, keys=keys, defaults={})
    try:
        return parse_limits(os.environ.get(name, ""), keys=keys, defaults=defaults)
    except LimitSyntaxError as error:
        raise ConfigurationError(f"{name}: {error}.") from None


def env_domain_file(name: str) -> frozenset[str]:
    """The domains listed in the file this variable names (one a line, # comments);
    empty when it is not set."""
    from groundswell.lib.disposable import read_domain_file

    value = env_str(name, "")
    if not value:
        return frozenset()
    path = Path(value).expanduser()
    try:
        return read_domain_file(name, path)
    except OSError as error:
        raise ConfigurationError(f"{name}: cannot read {path}: {error.strerror}.") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise ConfigurationError(str(error)) from None
