"""A proof-of-work puzzle for a form, solved by the browser (docs/security.md).

The server keeps nothing: the challenge it puts in the page carries a random salt,
the number of leading zero bits asked for, when it expires and what it is for (a
petition's id), all tagged with lib.signing. The browser looks for a number, the
solution, such that

    SHA-256(salt + first 24 hex digits of SHA-256(email) + solution)

starts with that many zero bits: 2**bits hashes on average
(static/js/proof-of-work-worker.js). Checking it costs the server two hashes and one
HMAC. Binding the puzzle to the email address typed makes a solution worth one
signature: a petition counts a person once, so replaying a solution with its address
signs nobody new, and with another address it fails.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from groundswell.lib import signing

CHALLENGE = signing.Purpose(salt=b"groundswell.proof-of-work.v1", length=22)
# 96 random bits: no two pages share a salt.
SALT_LENGTH = 16
# The puzzle's text fits one SHA-256 block: salt, email digest and up to 15 digits.
EMAIL_DIGEST_LENGTH = 24
MAX_SOLUTION_DIGITS = 15
MAX_BITS = 32
MAX_CHALLENGE_LENGTH = 100


@dataclass(frozen=True)
class Challenge:
    subject: int  # what it is for: the petition's id
    expires: int  # Unix seconds
    bits: int
    salt: str

    def text(self) -> str:
        body = f"{self.subject}.{self.expires}.{self.bits}.{self.salt}"
        return f"{body}.{signing.sign(CHALLENGE, body)}"


def make_challenge(subject: int, bits: int, lifetime: int, *, now: float | None = None) -> str:
    """A challenge for the page being made now, valid for `lifetime` seconds."""
    if not 1 <= bits <= MAX_BITS:
        raise ValueError(f"bits must be from 1 to {MAX_BITS}")
    salt = secrets.token_urlsafe(12)
    expires = int(now if now is not None else time.time()) + lifetime
    return Challenge(subject, expires, bits, salt).text()


def read_challenge(text: str) -> Challenge | None:
    """The challenge, when `text` is one of ours, untouched; else None. Its expiry is
    not checked here."""
    if len(text) > MAX_CHALLENGE_LENGTH or not text.isascii():
        return None
    body, _dot, tag = text.rpartition(".")
    parts = body.split(".")
    if len(parts) != 4 or not signing.verify(CHALLENGE, body, tag):
        return None
    subject, expires, bits, salt = parts
    return Challenge(int(subject), int(expires), int(bits), salt)


def email_digest(email: str) -> str:
    return hashlib.sha256(email.encode("utf-8", "surrogatepass")).hexdigest()[:EMAIL_DIGEST_LENGTH]


def puzzle_digest(salt: str, email: str, solution: str) -> bytes:
    return hashlib.sha256(f"{salt}{email_digest(email)}{solution}".encode()).digest()


def meets(digest: bytes, bits: int) -> bool:
    """Whether the digest starts with `bits` zero bits."""
    return int.from_bytes(digest, "big") >> (len(digest) * 8 - bits) == 0


def is_solved(challenge: Challenge, email: str, solution: str) -> bool:
    if not (solution.isascii() and solution.isdigit() and len(solution) <= MAX_SOLUTION_DIGITS):
        return False
    return meets(puzzle_digest(challenge.salt, email, solution), challenge.bits)


def check(
    text: str, solution: str, *, subject: int, email: str, min_bits: int, now: float | None = None
) -> bool:
    """Whether `solution` solves the challenge `text`, made by us for this subject, not
    expired, at least as hard as `min_bits` (a difficulty raised meanwhile holds at
    once), for this email address exactly as it was sent."""
    challenge = read_challenge(text)
    if challenge is None or challenge.subject != subject or challenge.bits < min_bits:
        return False
    if challenge.expires < (now if now is not None else time.time()):
        return False
    return is_solved(challenge, email, solution)


def solve(challenge: Challenge, email: str) -> str:
    """What the browser does, in Python: for tests and the benchmark only."""
    prefix = f"{challenge.salt}{email_digest(email)}"
    number = 0
    while not meets(hashlib.sha256(f"{prefix}{number}".encode()).digest(), challenge.bits):
        number += 1
    return str(number)
