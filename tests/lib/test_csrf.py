"""lib/csrf.py: Django's CSRF secrets and masks, drawn from one read of os.urandom."""

from __future__ import annotations

import re
from collections import Counter

from django.middleware import csrf as django_csrf
from django.test import RequestFactory

from groundswell.lib.csrf import characters_from, new_csrf_string


def test_it_maps_every_byte_value_onto_the_characters_evenly() -> None:
    drawn = Counter(characters_from(bytes(range(256))))

    # 62 characters, 4 byte values each; the 8 values left over are dropped, not folded
    # onto the first characters (which would make those likelier).
    assert set(drawn) == set(django_csrf.CSRF_ALLOWED_CHARS)
    assert set(drawn.values()) == {4}
    assert characters_from(bytes(range(248, 256))) == []


def test_it_reads_the_random_source_once_for_a_string() -> None:
    reads: list[int] = []

    def source(n: int) -> bytes:
        reads.append(n)
        return bytes(range(n))

    made = new_csrf_string(source)

    assert len(reads) == 1
    assert made == django_csrf.CSRF_ALLOWED_CHARS[:32]


def test_it_reads_again_when_too_many_bytes_were_dropped() -> None:
    answers = iter([bytes([255]) * 48, bytes([61]) * 48])

    made = new_csrf_string(lambda n: next(answers))

    assert made == "9" * django_csrf.CSRF_SECRET_LENGTH


def test_it_makes_strings_django_accepts_as_secrets() -> None:
    made = {new_csrf_string() for _ in range(200)}

    assert len(made) == 200
    for secret in made:
        assert re.fullmatch(r"[a-zA-Z0-9]{32}", secret)
        django_csrf._check_token_format(secret)  # raises InvalidTokenFormat if not


def test_django_draws_its_csrf_secrets_and_masks_through_it() -> None:
    request = RequestFactory().get("/")

    token = django_csrf.get_token(request)

    assert django_csrf._get_new_csrf_string is new_csrf_string
    assert len(token) == django_csrf.CSRF_TOKEN_LENGTH
    assert django_csrf._unmask_cipher_token(token) == request.META["CSRF_COOKIE"]
