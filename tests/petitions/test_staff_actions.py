"""Staff open and close petitions and invalidate signatures through actions that stamp the
time, write the audit log and keep the public count honest."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from groundswell.members.actions.people import PersonDetails, do_find_or_create_person
from groundswell.members.models import AuditAction, AuditEntry, Person
from groundswell.orgs.models import Organisation
from groundswell.petitions.actions.lifecycle import (
    do_close_petition,
    do_draft_petition,
    do_open_petition,
)
from groundswell.petitions.actions.signatures import do_invalidate_signatures, do_restore_signatures
from groundswell.petitions.counter import clear_process_cache, petition_count
from groundswell.petitions.models import Petition, PetitionStatus, Signature, SignatureStatus
from tests.cast import make_petition

pytestmark = pytest.mark.django_db


def signer(n: int) -> Person:
    person, _ = do_find_or_create_person(
        PersonDetails(email=f"signer{n}@example.org", first_name=f"Signer{n}"), source="test"
    )
    return person


def sign(petition: Petition, *people: Person) -> list[Signature]:
    return [Signature.objects.create(petition=petition, person=p, source="test") for p in people]


def count(petition: Petition) -> int:
    clear_process_cache()
    return petition_count(petition).count


class TestOpenAndClose:
    def test_opening_stamps_the_first_opening_only(self, open_press: Organisation):
        petition = make_petition(sponsors=[open_press], status="draft")
        opened = do_open_petition(petition, actor="admin:alice")
        assert (opened.status, opened.closed_at) == (PetitionStatus.OPEN, None)
        first = opened.opened_at
        assert first is not None
        do_close_petition(petition, actor="admin:alice")
        reopened = do_open_petition(petition, actor="admin:alice")
        assert reopened.opened_at == first
        assert reopened.closed_at is not None

    def test_each_change_writes_who_did_it_to_which_petition(self, open_press: Organisation):
        petition = make_petition(sponsors=[open_press], status="draft")
        do_open_petition(petition, actor="admin:alice")
        do_close_petition(petition, actor="admin:alice")
        do_draft_petition(petition, actor="admin:bob")
        entries = list(AuditEntry.objects.order_by("pk"))
        assert [(e.action, e.actor, e.person) for e in entries] == [
            (AuditAction.PETITION_OPENED, "admin:alice", None),
            (AuditAction.PETITION_CLOSED, "admin:alice", None),
            (AuditAction.PETITION_DRAFTED, "admin:bob", None),
        ]
        assert [e.details["was"] for e in entries] == ["draft", "open", "closed"]
        assert {e.details["petition"] for e in entries} == {petition.pk}

    def test_closing_a_closed_petition_changes_nothing(self, open_press: Organisation):
        petition = make_petition(sponsors=[open_press], status="closed")
        assert do_close_petition(petition, actor="admin:alice").closed_at is None
        assert not AuditEntry.objects.exists()


class TestInvalidate:
    def test_it_stops_counting_them_with_a_reason_once_committed(
        self, open_press: Organisation, django_capture_on_commit_callbacks: Any
    ):
        first = make_petition("first", sponsors=[open_press])
        second = make_petition("second", sponsors=[open_press])
        spam = sign(first, signer(1), signer(2)) + sign(second, signer(3))
        sign(first, signer(4))
        assert (count(first), count(second)) == (3, 1)

        with django_capture_on_commit_callbacks(execute=True):
            changed = do_invalidate_signatures("admin:alice", [s.pk for s in spam], reason="bot")

        assert changed == 3
        assert (count(first), count(second)) == (1, 0)
        for signature in Signature.objects.filter(pk__in=[s.pk for s in spam]):
            assert signature.status == SignatureStatus.INVALIDATED
            assert signature.invalidated_reason == "bot"
            assert signature.invalidated_at is not None

    def test_it_audits_each_signature_against_its_signer(self, open_press: Organisation):
        petition = make_petition(sponsors=[open_press])
        bob = signer(1)
        [signature] = sign(petition, bob)
        do_invalidate_signatures("admin:alice", [signature.pk], reason="duplicate")
        entry = AuditEntry.objects.get()
        assert (entry.action, entry.actor, entry.person) == (
            AuditAction.SIGNATURE_INVALIDATED,
            "admin:alice",
            bob,
        )
        assert entry.details == {
            "petition": petition.pk,
            "signature": signature.pk,
            "invalidated_reason": "duplicate",
        }

    def test_a_rolled_back_invalidation_leaves_the_count(
        self, open_press: Organisation, django_capture_on_commit_callbacks: Any
    ):
        petition = make_petition(sponsors=[open_press])
        [signature] = sign(petition, signer(1))
        assert count(petition) == 1
        with (
            django_capture_on_commit_callbacks(execute=True) as callbacks,
            pytest.raises(RuntimeError),
            transaction.atomic(),
        ):
            do_invalidate_signatures("admin:alice", [signature.pk], reason="bot")
            raise RuntimeError
        assert callbacks == []
        assert Signature.objects.get(pk=signature.pk).status == SignatureStatus.VALID
        assert not AuditEntry.objects.exists()

    def test_invalidating_twice_changes_and_audits_once(self, open_press: Organisation):
        petition = make_petition(sponsors=[open_press])
        [signature] = sign(petition, signer(1))
        assert do_invalidate_signatures("admin:alice", [signature.pk], reason="bot") == 1
        assert do_invalidate_signatures("admin:alice", [signature.pk], reason="bot") == 0
        assert AuditEntry.objects.count() == 1

    def test_restoring_counts_it_again(
        self, open_press: Organisation, django_capture_on_commit_callbacks: Any
    ):
        petition = make_petition(sponsors=[open_press])
        [signature] = sign(petition, signer(1))
        with django_capture_on_commit_callbacks(execute=True):
            do_invalidate_signatures("admin:alice", [signature.pk], reason="bot")
        assert count(petition) == 0
        with django_capture_on_commit_callbacks(execute=True):
            assert do_restore_signatures("admin:alice", [signature.pk]) == 1
        assert count(petition) == 1
        signature.refresh_from_db()
        assert (signature.status, signature.invalidated_at) == (SignatureStatus.VALID, None)
        assert AuditEntry.objects.filter(action=AuditAction.SIGNATURE_RESTORED).count() == 1
