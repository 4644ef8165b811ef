"""Disposable ("temporary", "throwaway") email domains, refused on the sign form when
SIGN_BLOCK_DISPOSABLE is on (docs/security.md).

A short list of our own, of services whose whole purpose is an inbox nobody keeps,
plus, when SIGN_BLOCKED_DOMAINS_FILE names one, a file of more (one domain a line,
`#` comments; e.g. a copy of a community-maintained list). A subdomain of a listed
domain is refused too.
"""

from __future__ import annotations

from pathlib import Path

BUILT_IN = frozenset(
    {
        "mailinator.com",
        "guerrillamail.com",
        "guerrillamail.net",
        "guerrillamail.org",
        "guerrillamailblock.com",
        "sharklasers.com",
        "grr.la",
        "10minutemail.com",
        "10minutemail.net",
        "yopmail.com",
        "yopmail.fr",
        "yopmail.net",
        "temp-mail.org",
        "tempmail.com",
        "tempmailo.com",
        "temp-mail.io",
        "trashmail.com",
        "trashmail.de",
        "getnada.com",
        "nada.email",
        "dispostable.com",
        "maildrop.cc",
        "throwawaymail.com",
        "fakeinbox.com",
        "mintemail.com",
        "mailnesia.com",
        "mohmal.com",
        "emailondeck.com",
        "spamgourmet.com",
        "mailcatch.com",
        "tempr.email",
        "discard.email",
        "burnermail.io",
        "33mail.com",
        "moakt.com",
        "tmail.ws",
        "tempail.com",
        "minuteinbox.com",
        "emailfake.com",
        "crazymailing.com",
    }
)


def read_domain_file(name: str, path: Path) -> frozenset[str]:
    """The domains listed in the file at `path` (the setting `name` points to it);
    raises OSError or ValueError naming the setting when it cannot be used."""
    domains = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        domain = line.split("#", 1)[0].strip().lower().rstrip(".")
        if not domain:
            continue
        if "@" in domain or " " in domain or "." not in domain:
            raise ValueError(f"{name}: line {number} of {path} is not a domain: {line.strip()!r}")
        domains.add(domain)
    return frozenset(domains)
