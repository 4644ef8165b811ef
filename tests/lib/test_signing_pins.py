"""Tokens already in people's inboxes keep working: each kind, made under a fixed key,
is byte-identical to what the code before lib/signing.py made (computed with it)."""

from __future__ import annotations

import pytest
from django.test import override_settings

from groundswell.lib.tokens import make_member_token, read_member_token
from groundswell.mailings.links import is_web_version_tag, web_version_path
from groundswell.petitions.referrals import make_referral_code, read_referral_code

PINNED_KEY = "pinned-key-for-tests-0123456789-abcdefghijklmnopqrstuvwxyz"


@pytest.fixture(autouse=True)
def pinned_key():
    with override_settings(SECRET_KEY=PINNED_KEY, SECRET_KEY_FALLBACKS=[]):
        yield


@pytest.mark.parametrize(
    ("person_id", "mailing_id", "token"),
    [
        (42, 7, "7.42.1Z6v1CfWge80zWDb"),
        (1, 0, "0.1.IbRybr-LYDK2tIO-"),
        (123456789012, 0, "0.123456789012.BU2VQzeoH8zXAUpW"),
    ],
)
def test_it_makes_and_reads_the_member_tokens_already_sent(person_id, mailing_id, token):
    assert make_member_token(person_id, mailing_id) == token
    assert read_member_token(token) is not None


@pytest.mark.parametrize(
    ("person_id", "code"),
    [(42, "16-wmOO1ofe23kf"), (1, "1-RzA5LgZLJ6-6"), (10**12, "cre66i9s-V8aOn3ouDtTn")],
)
def test_it_makes_and_reads_the_referral_codes_already_shared(person_id, code):
    assert make_referral_code(person_id) == code
    assert read_referral_code(code) == person_id


@pytest.mark.parametrize(
    ("mailing_id", "path"), [(7, "/mail/7-27418e337d23/"), (123456, "/mail/123456-fdf5a002a5b8/")]
)
def test_it_makes_and_accepts_the_web_version_addresses_already_sent(mailing_id, path):
    assert web_version_path(mailing_id) == path
    assert is_web_version_tag(mailing_id, path.strip("/").rsplit("-", 1)[1])
