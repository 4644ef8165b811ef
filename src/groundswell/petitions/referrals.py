"""Referral codes for share links: `?ref=<code>` names the person who shared.

A code is `<person id in base 36>-<tag>`, the tag 12 characters (72 bits) of
HMAC-SHA256 under a key derived from SECRET_KEY with its own salt. It carries no
email address. It only attributes a signature to a referrer: unlike a member
token (`akid`), it must never recognise anyone, because everyone who follows a
shared link carries the sharer's code.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable

from django.conf import settings

TAG_LENGTH = 12
_SALT = b"groundswell.referral-code.v1"
_CODE_RE = re.compile(r"^([1-9a-z][0-9a-z]{0,12})-([A-Za-z0-9_-]{12})$")


def _tag(secret: str, person_id: int) -> str:
    key = hmac.new(secret.encode(), _SALT, hashlib.sha256).digest()
    digest = hmac.new(key, str(person_id).encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:TAG_LENGTH]


def _secrets() -> Iterable[str]:
    yield settings.SECRET_KEY
    yield from getattr(settings, "SECRET_KEY_FALLBACKS", [])


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while number:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
    return out


def make_referral_code(person_id: int) -> str:
    if person_id < 1:
        raise ValueError("person_id must be positive")
    return f"{_base36(person_id)}-{_tag(settings.SECRET_KEY, person_id)}"


def read_referral_code(code: str | None) -> int | None:
    """The referring person's id, or None for anything malformed or forged."""
    if not code or len(code) > 40:
        return None
    match = _CODE_RE.match(code)
    if match is None:
        return None
    person_id = int(match[1], 36)
    for secret in _secrets():
        if hmac.compare_digest(_tag(secret, person_id), match[2]):
            return person_id
    return None
