"""Every keyed hash Groundswell makes, and the one place its keys rotate.

Tags in links (member tokens, referral codes, web-version addresses) are
HMAC-SHA256 of a message under a key derived from SECRET_KEY with a salt per
purpose, so a tag made for one purpose never verifies for another. They are made
with SECRET_KEY and verified against SECRET_KEY, then each of
SECRET_KEY_FALLBACKS, compared in constant time.

Suppression hashes (addresses we must never mail, kept only as a hash) are keyed
by SUPPRESSION_KEY instead, which never rotates: an erased address can never be
hashed again, so a key change would un-suppress it for good (docs/configuration.md, "Keys").
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from django.conf import settings

# The salt the suppression hash's key was derived from SECRET_KEY with, before
# SUPPRESSION_KEY existed: legacy_suppression_key() recovers that key.
LEGACY_SUPPRESSION_SALT = b"groundswell.email-hash.v1"
SUPPRESSION_KEY_HEX_LENGTH = 64


@dataclass(frozen=True)
class Purpose:
    """One kind of tag: its salt, and how many characters of which encoding it keeps."""

    salt: bytes
    length: int
    encoding: Literal["base64url", "hex"] = "base64url"


@lru_cache(maxsize=32)
def derive_key(secret: str, salt: bytes) -> bytes:
    return hmac.new(secret.encode(), salt, hashlib.sha256).digest()


def tag_with(secret: str, purpose: Purpose, message: str) -> str:
    # hmac.digest: the same HMAC in one call into C (every member link, click and form
    # stamp is checked with it).
    digest = hmac.digest(derive_key(secret, purpose.salt), message.encode(), "sha256")
    if purpose.encoding == "hex":
        return digest.hex()[: purpose.length]
    return base64.urlsafe_b64encode(digest).decode()[: purpose.length]


def signing_secrets() -> list[str]:
    """SECRET_KEY, then the fallbacks: the order tags are tried in."""
    return [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]


def sign(purpose: Purpose, message: str) -> str:
    """The tag for `message`, under the current SECRET_KEY."""
    return tag_with(settings.SECRET_KEY, purpose, message)


def verify(purpose: Purpose, message: str, tag: str) -> bool:
    """Whether `tag` was made for `message` under SECRET_KEY or one of its fallbacks."""
    if len(tag) != purpose.length:
        return False
    return any(
        hmac.compare_digest(tag_with(secret, purpose, message), tag) for secret in signing_secrets()
    )


def read_signed(
    purpose: Purpose,
    pattern: re.Pattern[str],
    token: str | None,
    message: Callable[[re.Match[str]], str],
    *,
    longest: int = 64,
) -> re.Match[str] | None:
    """The parts of a token that ends in its tag (the pattern's last group), when the
    token has the pattern's shape and the tag is the purpose's for message(parts);
    None for anything missing, longer than `longest`, malformed or forged."""
    if not token or len(token) > longest:
        return None
    match = pattern.match(token)
    if match is None or not verify(purpose, message(match), match[match.lastindex or 0]):
        return None
    return match


# ---------------------------------------------------------------------------
# Suppression hashes


def suppression_hashes_with(keys: Sequence[str], normalised_email: str) -> list[str]:
    return [
        hmac.new(bytes.fromhex(key), normalised_email.encode(), hashlib.sha256).hexdigest()
        for key in keys
    ]


def suppression_hash(normalised_email: str) -> str:
    """The hash new suppressions are stored under: SUPPRESSION_KEY's first key."""
    return suppression_hashes_with(settings.SUPPRESSION_KEYS[:1], normalised_email)[0]


def suppression_hashes(normalised_email: str) -> list[str]:
    """The address's hash under each of SUPPRESSION_KEY's keys, for look-ups."""
    return suppression_hashes_with(settings.SUPPRESSION_KEYS, normalised_email)


def legacy_suppression_key(secret: str) -> str:
    """The key suppression hashes were made with under `secret` before SUPPRESSION_KEY."""
    return derive_key(secret, LEGACY_SUPPRESSION_SALT).hex()


def legacy_suppression_keys(secret: str, fallbacks: Sequence[str]) -> str:
    """SUPPRESSION_KEY's value for an existing site: the keys its hashes were made with."""
    return ",".join(legacy_suppression_key(key) for key in [secret, *fallbacks])


def new_suppression_key() -> str:
    return secrets.token_hex(SUPPRESSION_KEY_HEX_LENGTH // 2)
