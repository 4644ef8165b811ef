"""lib/signing.py: one way to tag a message per purpose, rotation through SECRET_KEY's
fallbacks, and suppression hashes under a key of their own."""

from __future__ import annotations

import pytest
from django.test import override_settings
from hypothesis import given
from hypothesis import strategies as st

from groundswell.lib import signing
from groundswell.lib.tokens import MEMBER_TOKEN
from groundswell.mailings.links import WEB_VERSION
from groundswell.petitions.referrals import REFERRAL_CODE

PURPOSES = [MEMBER_TOKEN, REFERRAL_CODE, WEB_VERSION]
OLD_KEY = "old-key-" + "x" * 50
NEW_KEY = "new-key-" + "y" * 50
messages = st.text(max_size=60)
purposes = st.sampled_from(PURPOSES)


class TestTags:
    @given(purposes, messages)
    def test_it_verifies_what_it_signed(self, purpose, message):
        tag = signing.sign(purpose, message)
        assert len(tag) == purpose.length
        assert signing.verify(purpose, message, tag)

    @given(purposes, messages, st.data())
    def test_it_rejects_a_tag_with_any_character_changed(self, purpose, message, data):
        tag = signing.sign(purpose, message)
        position = data.draw(st.integers(min_value=0, max_value=len(tag) - 1))
        alphabet = "0123456789abcdef" if purpose.encoding == "hex" else "AZaz09-_q"
        replacement = data.draw(st.sampled_from(alphabet).filter(lambda c: c != tag[position]))
        assert not signing.verify(
            purpose, message, tag[:position] + replacement + tag[position + 1 :]
        )

    @given(purposes, messages, messages)
    def test_it_rejects_a_tag_made_for_another_message(self, purpose, message, other):
        if message != other:
            assert not signing.verify(purpose, other, signing.sign(purpose, message))

    @given(purposes, st.text(max_size=30))
    def test_it_rejects_any_text_of_the_wrong_length_without_raising(self, purpose, text):
        if len(text) != purpose.length:
            assert not signing.verify(purpose, "7", text)

    @pytest.mark.parametrize("purpose", PURPOSES)
    def test_a_tag_for_one_purpose_never_verifies_for_another(self, purpose):
        tag = signing.sign(purpose, "42")
        for other in PURPOSES:
            if other is not purpose:
                same_shape = signing.Purpose(other.salt, purpose.length, purpose.encoding)
                assert not signing.verify(same_shape, "42", tag)

    @pytest.mark.parametrize("purpose", PURPOSES)
    def test_it_verifies_tags_made_with_a_fallback_key_until_it_is_dropped(self, purpose):
        with override_settings(SECRET_KEY=OLD_KEY):
            old = signing.sign(purpose, "42")
        with override_settings(SECRET_KEY=NEW_KEY, SECRET_KEY_FALLBACKS=[OLD_KEY]):
            assert signing.verify(purpose, "42", old)
            assert signing.sign(purpose, "42") != old
        with override_settings(SECRET_KEY=NEW_KEY, SECRET_KEY_FALLBACKS=[]):
            assert not signing.verify(purpose, "42", old)


class TestSuppressionHashes:
    def test_they_do_not_change_with_secret_key(self):
        with override_settings(SECRET_KEY=OLD_KEY):
            before = signing.suppression_hashes("bob@example.org")
        with override_settings(SECRET_KEY=NEW_KEY, SECRET_KEY_FALLBACKS=[]):
            assert signing.suppression_hashes("bob@example.org") == before

    def test_they_change_with_suppression_key(self):
        with override_settings(SUPPRESSION_KEYS=["ab" * 32]):
            first = signing.suppression_hash("bob@example.org")
        with override_settings(SUPPRESSION_KEYS=["cd" * 32]):
            assert signing.suppression_hash("bob@example.org") != first

    def test_new_hashes_use_the_first_key_and_look_ups_try_every_key(self):
        with override_settings(SUPPRESSION_KEYS=["ab" * 32, "cd" * 32]):
            hashes = signing.suppression_hashes("bob@example.org")
            assert hashes[0] == signing.suppression_hash("bob@example.org")
            assert len(set(hashes)) == 2

    def test_the_legacy_key_gives_the_hash_made_before_suppression_key_existed(self):
        # Computed with lib/tokens.py's email_hash before this change, under this SECRET_KEY.
        pinned_secret = "pinned-key-for-tests-0123456789-abcdefghijklmnopqrstuvwxyz"
        pinned = "0f630d0cd50548f4bef74414a0fab6fe4c5d5da9d21e1581dbbe99b9b45193ac"
        keys = signing.legacy_suppression_keys(pinned_secret, []).split(",")
        with override_settings(SUPPRESSION_KEYS=keys):
            assert signing.suppression_hash("alice@example.org") == pinned

    def test_the_legacy_keys_list_secret_key_first_then_each_fallback(self):
        keys = signing.legacy_suppression_keys(NEW_KEY, [OLD_KEY]).split(",")
        assert keys == [
            signing.legacy_suppression_key(NEW_KEY),
            signing.legacy_suppression_key(OLD_KEY),
        ]
        assert all(len(key) == signing.SUPPRESSION_KEY_HEX_LENGTH for key in keys)
