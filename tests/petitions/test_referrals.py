from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from groundswell.petitions.referrals import make_referral_code, read_referral_code


class TestReferralCodes:
    @given(st.integers(min_value=1, max_value=10**15))
    def test_it_reads_back_the_person_it_names(self, person_id: int) -> None:
        assert read_referral_code(make_referral_code(person_id)) == person_id

    @given(st.text(max_size=50))
    def test_it_never_accepts_arbitrary_text(self, text: str) -> None:
        assert read_referral_code(text) is None

    def test_it_rejects_a_code_moved_to_another_person(self) -> None:
        tag = make_referral_code(7).split("-")[1]

        assert read_referral_code(f"8-{tag}") is None

    def test_it_differs_from_a_member_token(self) -> None:
        from groundswell.lib.tokens import make_member_token

        assert make_referral_code(7).split("-")[1] not in make_member_token(7)

    def test_it_survives_key_rotation(self, settings: Any) -> None:
        code = make_referral_code(42)
        settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
        settings.SECRET_KEY = "a-new-key-for-this-test-0123456789-abcdefghijklmnop"

        assert read_referral_code(code) == 42
        settings.SECRET_KEY_FALLBACKS = []
        assert read_referral_code(code) is None
