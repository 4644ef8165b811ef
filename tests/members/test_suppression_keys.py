"""Suppressions survive any change of SECRET_KEY: their hashes have a key of their own,
and the hashes made before it existed keep matching once its value is taken from the old keys."""

from __future__ import annotations

import pytest
from django.test import override_settings

from groundswell.cli import suppression_key_line
from groundswell.lib import signing
from groundswell.lib.env import env_hex_keys
from groundswell.lib.tokens import email_hashes
from groundswell.members.actions.people import PersonDetails, do_find_or_create_person
from groundswell.members.actions.privacy import do_erase_person
from groundswell.members.actions.suppression import do_suppress, is_suppressed
from groundswell.members.models import AuditEntry, Suppression, SuppressionReason

# Made by the code before SUPPRESSION_KEY (lib/tokens.py's email_hash) for
# alice@example.org under PINNED_SECRET: a row as it sits in a live database today.
PINNED_SECRET = "pinned-key-for-tests-0123456789-abcdefghijklmnopqrstuvwxyz"
PINNED_HASH = "0f630d0cd50548f4bef74414a0fab6fe4c5d5da9d21e1581dbbe99b9b45193ac"
NEWER_SECRET = "a-newer-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"


def configured_suppression_key(monkeypatch, secret: str, fallbacks: str = "") -> list[str]:
    """What an operator sets, from `groundswell suppression_key` run with the site's keys."""
    monkeypatch.setenv("SECRET_KEY", secret)
    monkeypatch.setenv("SECRET_KEY_FALLBACKS", fallbacks)
    name, value = suppression_key_line([]).strip().split("=", 1)
    monkeypatch.setenv(name, value)
    return env_hex_keys("SUPPRESSION_KEY", length=signing.SUPPRESSION_KEY_HEX_LENGTH)


@pytest.mark.django_db
class TestUpgradingASite:
    def test_a_suppression_made_under_the_old_scheme_still_suppresses(self, monkeypatch):
        Suppression.objects.create(email_hash=PINNED_HASH, reason=SuppressionReason.ERASED)
        keys = configured_suppression_key(monkeypatch, PINNED_SECRET)
        with override_settings(SECRET_KEY=PINNED_SECRET, SUPPRESSION_KEYS=keys):
            assert is_suppressed("alice@example.org")
            assert not is_suppressed("bob@example.org")

    def test_one_made_under_a_fallback_key_still_suppresses(self, monkeypatch):
        Suppression.objects.create(email_hash=PINNED_HASH, reason=SuppressionReason.ERASED)
        keys = configured_suppression_key(monkeypatch, NEWER_SECRET, fallbacks=PINNED_SECRET)
        with override_settings(SECRET_KEY=NEWER_SECRET, SUPPRESSION_KEYS=keys):
            assert is_suppressed("alice@example.org")

    def test_dropping_the_old_secret_key_afterwards_keeps_everyone_suppressed(self, monkeypatch):
        Suppression.objects.create(email_hash=PINNED_HASH, reason=SuppressionReason.ERASED)
        keys = configured_suppression_key(monkeypatch, NEWER_SECRET, fallbacks=PINNED_SECRET)
        with override_settings(
            SECRET_KEY="yet-another-key-" + "z" * 50, SECRET_KEY_FALLBACKS=[], SUPPRESSION_KEYS=keys
        ):
            assert is_suppressed("alice@example.org")

    def test_the_printed_key_is_one_settings_accept(self, monkeypatch):
        assert len(configured_suppression_key(monkeypatch, PINNED_SECRET, NEWER_SECRET)) == 2
        name, value = suppression_key_line(["--new"]).strip().split("=", 1)
        monkeypatch.setenv(name, value)
        assert len(env_hex_keys(name, length=signing.SUPPRESSION_KEY_HEX_LENGTH)) == 1


@pytest.mark.django_db
class TestChangingSecretKey:
    def test_it_does_not_change_who_is_suppressed(self):
        with override_settings(SECRET_KEY=PINNED_SECRET, SECRET_KEY_FALLBACKS=[]):
            do_suppress("carol@example.org", reason=SuppressionReason.UNSUBSCRIBED, source="t")
        with override_settings(SECRET_KEY=NEWER_SECRET, SECRET_KEY_FALLBACKS=[]):
            assert is_suppressed("carol@example.org")

    def test_an_erased_person_stays_suppressed_and_their_audit_trail_findable(self):
        with override_settings(SECRET_KEY=PINNED_SECRET, SECRET_KEY_FALLBACKS=[]):
            bob, _ = do_find_or_create_person(PersonDetails(email="bob@example.org"), source="t")
            do_erase_person(bob, actor="self")
        with override_settings(SECRET_KEY=NEWER_SECRET, SECRET_KEY_FALLBACKS=[]):
            assert is_suppressed("bob@example.org")
            found = AuditEntry.objects.filter(subject_hash__in=email_hashes("bob@example.org"))
            assert found.filter(action="erased").exists()
