"""Rate limits as written in settings and on a petition, and the arithmetic of
"when may they try again". Where the counts come from is up to the caller (signing
counts its own signatures, petitions/limits.py; the email-sending forms count their
own requests, limits/actions.py).

The syntax, one rule per key, rules separated by semicolons:

    network=100/10m,1000/24h; domain=100/10m,1000/24h

Each rule is `<key>=<count>/<minutes>m,<count>/<hours>h`: a burst window in minutes
and a sustained window in hours, both optional (give one or both, in any order), or
`off`. A key left out keeps its default; the whole value `off` turns every rule off.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta


class LimitSyntaxError(ValueError):
    """The text is not a limit as documented; the message says what is wrong."""


@dataclass(frozen=True)
class Window:
    """At most `count` in any `period`."""

    count: int
    period: timedelta

    def __str__(self) -> str:
        minutes = int(self.period.total_seconds() // 60)
        if minutes % 60 == 0 and minutes >= 60:
            return f"{self.count}/{minutes // 60}h"
        return f"{self.count}/{minutes}m"


# A rule is its windows, shortest first; () means the key is not limited.
Rule = tuple[Window, ...]
Limits = Mapping[str, Rule]

_WINDOW = re.compile(r"(\d{1,9})/(\d{1,6})([mh])")


def parse_limits(text: str, *, keys: Iterable[str], defaults: Limits) -> dict[str, Rule]:
    """The rules `text` spells, each key not named there keeping its default."""
    allowed = list(keys)
    rules = {key: tuple(defaults.get(key, ())) for key in allowed}
    text = text.strip()
    if text.lower() == "off":
        return dict.fromkeys(allowed, ())
    if not text:
        return rules
    seen = set()
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        key, equals, value = (s.strip() for s in part.partition("="))
        key = key.lower()
        if not equals or key not in allowed:
            raise LimitSyntaxError(
                f"each rule must start with {' or '.join(k + '=' for k in allowed)}; got {part!r}"
            )
        if key in seen:
            raise LimitSyntaxError(f"{key}= is given twice")
        seen.add(key)
        rules[key] = _parse_rule(key, value)
    return rules


def _parse_rule(key: str, value: str) -> Rule:
    if value.lower() == "off":
        return ()
    windows = []
    for item in value.split(","):
        match = _WINDOW.fullmatch(item.strip().lower())
        if match is None:
            raise LimitSyntaxError(
                f"{key}= takes windows like 100/10m (minutes) or 1000/24h (hours), "
                f"comma-separated, or off; got {item.strip()!r}"
            )
        count, length, unit = int(match[1]), int(match[2]), match[3]
        if count < 1 or length < 1:
            raise LimitSyntaxError(f"{key}= needs a count and a period of at least 1; got {item!r}")
        period = timedelta(minutes=length) if unit == "m" else timedelta(hours=length)
        windows.append(Window(count, period))
    if len({w.period for w in windows}) != len(windows):
        raise LimitSyntaxError(f"{key}= has two windows of the same length")
    return tuple(sorted(windows, key=lambda w: w.period))


def format_limits(rules: Limits) -> str:
    """The rules written back in the syntax parse_limits reads."""
    if not any(rules.values()):
        return "off"
    return "; ".join(
        f"{key}={','.join(str(w) for w in rule) if rule else 'off'}" for key, rule in rules.items()
    )


# Webmail providers with millions of users each: a popular petition draws hundreds
# of genuine signers from each of them, so the per-domain rule never counts them (a
# flood from them is met by the per-network rule instead). A custom or throwaway
# domain is what the domain rule is for. The trust page judges these by their own
# earlier share alone (workspace/activity.py).
LARGE_PROVIDERS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "hotmail.co.uk",
        "hotmail.fr",
        "live.com",
        "live.co.uk",
        "msn.com",
        "yahoo.com",
        "yahoo.co.uk",
        "yahoo.fr",
        "ymail.com",
        "aol.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "proton.me",
        "protonmail.com",
        "gmx.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "t-online.de",
        "orange.fr",
        "free.fr",
        "laposte.net",
        "btinternet.com",
        "sky.com",
        "virginmedia.com",
        "comcast.net",
        "verizon.net",
        "att.net",
        "mail.ru",
        "yandex.ru",
        "qq.com",
        "163.com",
        "naver.com",
        "libero.it",
        "fastmail.com",
        "zoho.com",
        "yahoo.de",
        "sfr.fr",
        "wanadoo.fr",
    }
)


def domain_of(normalised_email: str) -> str:
    return normalised_email.rpartition("@")[2]


def is_under(domain: str, listed: frozenset[str] | set[str]) -> bool:
    """Whether `domain` is one of `listed` or a subdomain of one."""
    while True:
        if domain in listed:
            return True
        _, dot, domain = domain.partition(".")
        if not dot or not domain:
            return False
