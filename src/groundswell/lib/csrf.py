"""CSRF tokens from one read of the system's random source instead of one per character.

Django makes each CSRF secret and each mask with `get_random_string`, which asks the
operating system for randomness once per character: 64 `getrandom` calls for a page
that carries a token to a first-time visitor. Each call also gives up and takes back
Python's interpreter lock, which under load means waiting behind the other threads of
the process (docs/performance.md has the measurements).

`new_csrf_string` makes the same thing, a string of CSRF_SECRET_LENGTH characters
drawn uniformly and independently from CSRF_ALLOWED_CHARS by the system's
cryptographic random source, from one read. It replaces Django's
`django.middleware.csrf._get_new_csrf_string` (see `install`), so secrets, masks, the
cookie and the check stay Django's own code.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from django.middleware import csrf as django_csrf

_CHARS = django_csrf.CSRF_ALLOWED_CHARS
_LENGTH = django_csrf.CSRF_SECRET_LENGTH
# Bytes below this many map evenly onto the characters (each one 256 // 62 = 4 ways);
# the few above it are dropped, so no character is likelier than another.
_EVEN = 256 - 256 % len(_CHARS)
# Enough bytes that one read almost always suffices (each byte is kept with p = 248/256).
_READ = _LENGTH + 16


def new_csrf_string(random_bytes: Callable[[int], bytes] = os.urandom) -> str:
    chars: list[str] = []
    while len(chars) < _LENGTH:
        chars.extend(characters_from(random_bytes(_READ)))
    return "".join(chars[:_LENGTH])


def characters_from(data: bytes) -> list[str]:
    """One allowed character per byte below _EVEN, in order; the other bytes dropped."""
    return [_CHARS[b % len(_CHARS)] for b in data if b < _EVEN]


def install() -> None:
    """Make Django's CSRF code draw its secrets and masks through new_csrf_string."""
    if not callable(getattr(django_csrf, "_get_new_csrf_string", None)):
        # Django moved things: fail loudly rather than run with an unknown generator.
        raise RuntimeError("django.middleware.csrf._get_new_csrf_string is gone; see lib/csrf.py")
    django_csrf._get_new_csrf_string = new_csrf_string
