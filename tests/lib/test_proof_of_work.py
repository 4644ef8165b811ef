"""The proof-of-work puzzle (lib/proof_of_work.py): a challenge made by us checks once
solved, for its own subject and email address, before it expires, and nothing else
does."""

from __future__ import annotations

import hashlib

import pytest
from django.test import override_settings
from hypothesis import given
from hypothesis import strategies as st

from groundswell.lib import proof_of_work
from groundswell.lib.proof_of_work import check, make_challenge, read_challenge, solve

NOW = 1_800_000_000.0
DAY = 24 * 3600
CHALLENGE_CHARACTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."
subjects = st.integers(min_value=1, max_value=10**12)
emails = st.emails().map(str)
easy_bits = st.integers(min_value=1, max_value=8)


def solved(subject: int, email: str, bits: int) -> tuple[str, str]:
    """A challenge as the page carries it, and its solution as a browser finds it. The
    salt is made from the subject, so that a generated example repeats exactly."""
    challenge = proof_of_work.Challenge(subject, int(NOW) + DAY, bits, f"{subject:0>16}"[-16:])
    return challenge.text(), solve(challenge, email)


class TestChallenges:
    @given(subjects, emails, easy_bits)
    def test_it_takes_a_solution_to_its_own_challenge(self, subject, email, bits):
        text, solution = solved(subject, email, bits)

        assert check(text, solution, subject=subject, email=email, min_bits=bits, now=NOW + 60)

    def test_it_makes_a_new_salt_for_every_page(self):
        salts = {read_challenge(make_challenge(1, 16, DAY)).salt for _ in range(100)}  # type: ignore[union-attr]

        assert len(salts) == 100

    def test_the_puzzle_text_fits_one_sha256_block(self):
        challenge = read_challenge(make_challenge(10**12, 32, DAY))
        assert challenge is not None
        longest = f"{challenge.salt}{proof_of_work.email_digest('x')}{'9' * 15}"

        assert len(longest) <= 55

    @given(subjects, emails, easy_bits, st.data())
    def test_it_refuses_a_challenge_changed_anywhere(self, subject, email, bits, data):
        text, solution = solved(subject, email, bits)
        position = data.draw(st.integers(min_value=0, max_value=len(text) - 1))
        replacement = data.draw(
            st.sampled_from(CHALLENGE_CHARACTERS).filter(lambda c: c != text[position])
        )
        tampered = text[:position] + replacement + text[position + 1 :]

        assert not check(tampered, solution, subject=subject, email=email, min_bits=1, now=NOW)

    @given(subjects, emails, easy_bits)
    def test_it_refuses_a_challenge_made_easier_by_its_holder(self, subject, email, bits):
        hard = proof_of_work.Challenge(subject, int(NOW) + DAY, 30, f"{subject:0>16}"[-16:])
        easier = proof_of_work.Challenge(hard.subject, hard.expires, bits, hard.salt)
        forged = hard.text().replace(".30.", f".{bits}.", 1)

        assert forged.rpartition(".")[0] == easier.text().rpartition(".")[0]
        assert not check(
            forged, solve(easier, email), subject=subject, email=email, min_bits=1, now=NOW
        )

    @given(subjects, emails, easy_bits)
    def test_it_refuses_a_solution_once_the_challenge_has_expired(self, subject, email, bits):
        text, solution = solved(subject, email, bits)

        assert check(text, solution, subject=subject, email=email, min_bits=1, now=NOW + DAY)
        assert not check(
            text, solution, subject=subject, email=email, min_bits=1, now=NOW + DAY + 1
        )

    @given(subjects, subjects, emails, easy_bits)
    def test_it_refuses_a_challenge_made_for_another_petition(self, subject, other, email, bits):
        text, solution = solved(subject, email, bits)

        assert check(text, solution, subject=other, email=email, min_bits=1, now=NOW) == (
            other == subject
        )

    @given(subjects, emails, emails, st.integers(min_value=6, max_value=10))
    def test_it_refuses_a_solution_replayed_with_another_address(self, subject, email, other, bits):
        text, solution = solved(subject, email, bits)
        # An address for which this number happens to solve the puzzle too is as likely
        # as any number solving it: one in 2**bits. Asking for no such luck:
        challenge = read_challenge(text)
        assert challenge is not None
        lucky = proof_of_work.is_solved(challenge, other, solution)

        assert check(text, solution, subject=subject, email=other, min_bits=1, now=NOW) == (
            other == email or lucky
        )

    def test_a_replayed_solution_fails_for_almost_every_other_address(self):
        text, solution = solved(7, "charlie@example.org", 12)

        taken = [
            n
            for n in range(2000)
            if check(text, solution, subject=7, email=f"s{n}@example.org", min_bits=1, now=NOW)
        ]

        assert len(taken) <= 3  # about 2000 / 2**12

    @given(subjects, emails, st.integers(min_value=8, max_value=12))
    def test_it_refuses_a_challenge_easier_than_the_site_now_asks(self, subject, email, bits):
        text, solution = solved(subject, email, bits)

        assert check(text, solution, subject=subject, email=email, min_bits=bits, now=NOW)
        assert not check(text, solution, subject=subject, email=email, min_bits=bits + 1, now=NOW)

    @given(subjects, emails, st.integers(min_value=8, max_value=12), st.text(max_size=16))
    def test_it_takes_a_number_exactly_when_it_solves_the_puzzle(
        self, subject, email, bits, number
    ):
        text, _solution = solved(subject, email, bits)
        salt = text.split(".")[3]
        address = hashlib.sha256(email.encode()).hexdigest()[:24]
        puzzle = hashlib.sha256(f"{salt}{address}{number}".encode()).digest()
        solves = (
            number.isascii()
            and number.isdigit()
            and puzzle[0] == 0
            and (puzzle[1] >> (16 - bits) == 0)
        )

        assert check(text, number, subject=subject, email=email, min_bits=1, now=NOW) == solves

    @given(st.text(max_size=120), st.text(max_size=30))
    def test_it_never_fails_on_junk(self, text, solution):
        assert not check(text, solution, subject=1, email="a@example.org", min_bits=1)

    def test_it_refuses_a_challenge_made_under_another_key(self):
        with override_settings(SECRET_KEY="another-key-" * 5):
            text, solution = solved(1, "charlie@example.org", 8)

        assert not check(
            text, solution, subject=1, email="charlie@example.org", min_bits=1, now=NOW
        )

    def test_it_takes_one_made_under_a_key_being_rotated_out(self, settings):
        old = settings.SECRET_KEY
        text, solution = solved(1, "charlie@example.org", 8)
        settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "a-new-key-" * 6, [old]

        assert check(text, solution, subject=1, email="charlie@example.org", min_bits=1, now=NOW)

    @pytest.mark.parametrize("bits", [0, 33])
    def test_it_asks_only_for_what_a_browser_can_do(self, bits):
        with pytest.raises(ValueError):
            make_challenge(1, bits, DAY)

    def test_it_is_cheap_to_check(self, monkeypatch):
        text, solution = solved(1, "charlie@example.org", 16)
        real = proof_of_work.hashlib.sha256
        digests = []

        def counting(data: bytes) -> object:
            digests.append(data)
            return real(data)

        monkeypatch.setattr(proof_of_work.hashlib, "sha256", counting)

        assert check(text, solution, subject=1, email="charlie@example.org", min_bits=16, now=NOW)
        assert len(digests) == 2  # the address's and the puzzle's; and one HMAC
