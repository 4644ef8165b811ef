"""Referral codes for share links: `?ref=<code>` names the person who shared.

A code is `<person id in base 36>-<tag>`, the tag 12 characters (72 bits) of a
lib.signing tag with its own salt. It carries no
email address. It only attributes a signature to a referrer: unlike a member
token (`akid`), it must never recognise anyone, because everyone who follows a
shared link carries the sharer's code.
"""

from __future__ import annotations

import re

from groundswell.lib import signing

TAG_LENGTH = 12
REFERRAL_CODE = signing.Purpose(salt=b"groundswell.referral-code.v1", length=TAG_LENGTH)
_CODE_RE = re.compile(r"^([1-9a-z][0-9a-z]{0,12})-([A-Za-z0-9_-]{12})$")


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
    return f"{_base36(person_id)}-{signing.sign(REFERRAL_CODE, str(person_id))}"


def read_referral_code(code: str | None) -> int | None:
    """The referring person's id, or None for anything malformed or forged."""
    match = signing.read_signed(REFERRAL_CODE, _CODE_RE, code, _signed_id, longest=40)
    return None if match is None else int(match[1], 36)


def _signed_id(parts: re.Match[str]) -> str:
    """What a code's tag signs: the person's id in decimal."""
    return str(int(parts[1], 36))
