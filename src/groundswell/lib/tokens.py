"""Member tokens (`akid`): `<mailing id>.<person id>.<tag>`.

The tag is HMAC-SHA256 over the two ids, keyed by a key derived from SECRET_KEY,
url-safe base64, 16 characters (96 bits). Verification tries SECRET_KEY and then
each of SECRET_KEY_FALLBACKS, so keys can be rotated: a token issued under an
older key keeps working until that key is removed. Mailing id 0 means "not from
a mailing".
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings

TAG_LENGTH = 16
_SALT = b"groundswell.member-token.v1"
_TOKEN_RE = re.compile(r"^(0|[1-9][0-9]{0,17})\.([1-9][0-9]{0,17})\.([A-Za-z0-9_-]{16})$")


@dataclass(frozen=True)
class MemberToken:
    mailing_id: int
    person_id: int


@lru_cache(maxsize=8)
def _derived_key(secret: str) -> bytes:
    return hmac.new(secret.encode(), _SALT, hashlib.sha256).digest()


def _tag(secret: str, mailing_id: int, person_id: int) -> str:
    digest = hmac.new(
        _derived_key(secret), f"{mailing_id}.{person_id}".encode(), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest).decode()[:TAG_LENGTH]


def _secrets() -> Iterable[str]:
    yield settings.SECRET_KEY
    yield from getattr(settings, "SECRET_KEY_FALLBACKS", [])


def make_member_token(person_id: int, mailing_id: int = 0) -> str:
    if person_id < 1 or mailing_id < 0:
        raise ValueError("person_id must be positive and mailing_id zero or positive")
    return f"{mailing_id}.{person_id}.{_tag(settings.SECRET_KEY, mailing_id, person_id)}"


def read_member_token(token: str | None) -> MemberToken | None:
    """The ids a token carries, or None for anything malformed, tampered or unknown."""
    if not token or len(token) > 64:
        return None
    match = _TOKEN_RE.match(token)
    if match is None:
        return None
    mailing_id, person_id, tag = int(match[1]), int(match[2]), match[3]
    for secret in _secrets():
        if hmac.compare_digest(_tag(secret, mailing_id, person_id), tag):
            return MemberToken(mailing_id=mailing_id, person_id=person_id)
    return None


@lru_cache(maxsize=8)
def _email_hash_key(secret: str) -> bytes:
    return hmac.new(secret.encode(), b"groundswell.email-hash.v1", hashlib.sha256).digest()


def _email_hash(secret: str, normalised_email: str) -> str:
    return hmac.new(_email_hash_key(secret), normalised_email.encode(), hashlib.sha256).hexdigest()


def email_hash(normalised_email: str) -> str:
    """A keyed hash of an address: lets us honour "never contact me" without keeping it.

    Keyed by SECRET_KEY, so a leaked suppression list cannot be reversed by hashing
    guessed addresses.
    """
    return _email_hash(settings.SECRET_KEY, normalised_email)


def email_hashes(normalised_email: str) -> list[str]:
    """The address's hash under the current key and each fallback key (for look-ups)."""
    return [_email_hash(secret, normalised_email) for secret in _secrets()]
