"""Member tokens (`akid`): `<mailing id>.<person id>.<tag>`.

The tag is 16 characters (96 bits) of a lib.signing tag over the two ids, so keys
rotate as every other tag's do. Mailing id 0 means "not from a mailing".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from groundswell.lib import signing

TAG_LENGTH = 16
MEMBER_TOKEN = signing.Purpose(salt=b"groundswell.member-token.v1", length=TAG_LENGTH)
_TOKEN_RE = re.compile(r"^(0|[1-9][0-9]{0,17})\.([1-9][0-9]{0,17})\.([A-Za-z0-9_-]{16})$")


# Stands in for a member's token in staff previews and test copies: it names no one,
# so every link in such a copy shows pages as to a stranger and changes nothing.
PREVIEW_TOKEN = "preview"  # noqa: S105 (not a secret: it opens nothing)


@dataclass(frozen=True)
class MemberToken:
    mailing_id: int
    person_id: int


def make_member_token(person_id: int, mailing_id: int = 0) -> str:
    if person_id < 1 or mailing_id < 0:
        raise ValueError("person_id must be positive and mailing_id zero or positive")
    return f"{mailing_id}.{person_id}.{signing.sign(MEMBER_TOKEN, f'{mailing_id}.{person_id}')}"


def read_member_token(token: str | None) -> MemberToken | None:
    """The ids a token carries, or None for anything malformed, tampered or unknown."""
    # The pattern allows no leading zeros: the ids as written are the message signed.
    match = signing.read_signed(MEMBER_TOKEN, _TOKEN_RE, token, lambda ids: f"{ids[1]}.{ids[2]}")
    if match is None:
        return None
    return MemberToken(mailing_id=int(match[1]), person_id=int(match[2]))


def email_hash(normalised_email: str) -> str:
    """A keyed hash of an address: lets us honour "never contact me" without keeping it.

    Keyed by SUPPRESSION_KEY, never by SECRET_KEY (lib.signing says why), so a leaked
    suppression list cannot be reversed by hashing guessed addresses.
    """
    return signing.suppression_hash(normalised_email)


def email_hashes(normalised_email: str) -> list[str]:
    """The address's hash under each suppression key (for look-ups)."""
    return signing.suppression_hashes(normalised_email)
