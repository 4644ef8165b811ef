from __future__ import annotations

import pytest
from django.test import override_settings
from hypothesis import given
from hypothesis import strategies as st

from groundswell.lib.tokens import (
    TAG_LENGTH,
    MemberToken,
    make_member_token,
    read_member_token,
)

person_ids = st.integers(min_value=1, max_value=10**15)
mailing_ids = st.integers(min_value=0, max_value=10**15)
URLSAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."


class TestMemberTokens:
    @given(person_ids, mailing_ids)
    def test_it_reads_back_what_it_made(self, person_id, mailing_id):
        token = make_member_token(person_id, mailing_id)
        assert read_member_token(token) == MemberToken(mailing_id=mailing_id, person_id=person_id)

    @given(person_ids, mailing_ids)
    def test_it_makes_url_safe_tokens_with_a_long_tag(self, person_id, mailing_id):
        token = make_member_token(person_id, mailing_id)
        assert set(token) <= set(URLSAFE)
        assert len(token.rsplit(".", 1)[1]) == TAG_LENGTH >= 12

    @given(person_ids, mailing_ids, st.data())
    def test_it_rejects_any_single_character_change(self, person_id, mailing_id, data):
        token = make_member_token(person_id, mailing_id)
        position = data.draw(st.integers(min_value=0, max_value=len(token) - 1))
        replacement = data.draw(st.sampled_from(URLSAFE).filter(lambda c: c != token[position]))
        tampered = token[:position] + replacement + token[position + 1 :]
        assert read_member_token(tampered) is None

    @given(st.text(max_size=80))
    def test_it_rejects_arbitrary_text_without_raising(self, text):
        assert read_member_token(text) is None

    def test_it_rejects_a_token_for_another_person(self):
        mailing, _person, tag = make_member_token(7, 3).split(".")
        assert read_member_token(f"{mailing}.8.{tag}") is None

    def test_it_rejects_leading_zeros_that_would_alias_an_id(self):
        token = make_member_token(7, 3)
        assert read_member_token("0" + token) is None

    def test_it_still_reads_tokens_made_with_a_rotated_key(self):
        with override_settings(SECRET_KEY="old-key-" + "x" * 40):
            old = make_member_token(42, 9)
        with override_settings(SECRET_KEY="new-key-" + "y" * 40, SECRET_KEY_FALLBACKS=[]):
            assert read_member_token(old) is None
        with override_settings(
            SECRET_KEY="new-key-" + "y" * 40, SECRET_KEY_FALLBACKS=["old-key-" + "x" * 40]
        ):
            assert read_member_token(old) == MemberToken(mailing_id=9, person_id=42)
            assert make_member_token(42, 9) != old

    def test_it_refuses_to_make_a_token_for_no_one(self):
        with pytest.raises(ValueError):
            make_member_token(0)
