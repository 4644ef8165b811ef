"""Signatures after they are written: invalidated and restored by staff, and anonymised
once their petition has been closed long enough."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from groundswell.members.actions.audit import record_audit
from groundswell.members.actions.people import do_delete_people_without_purpose
from groundswell.members.models import AuditAction
from groundswell.petitions.counter import refresh_petition_count
from groundswell.petitions.models import (
    Petition,
    PetitionStatus,
    Signature,
    SignatureStatus,
)
from groundswell.petitions.tally.follow import tallies_follow


def _set_signature_status(
    actor: str,
    signature_ids: Collection[int],
    status: SignatureStatus,
    action: AuditAction,
    changes: dict[str, Any],
) -> int:
    with transaction.atomic():
        signatures = list(
            # Only the signatures are locked: the signer may be gone (an outer join).
            Signature.objects.select_for_update(of=("self",))
            .filter(pk__in=signature_ids)
            .exclude(status=status)
            # A signature waiting for confirmation by email is its signer's to confirm
            # and expires on its own: staff neither invalidate nor restore it.
            .exclude(status=SignatureStatus.PENDING)
            .select_related("person", "petition")
            .order_by("pk")
        )
        if not signatures:
            return 0
        changed = [s.pk for s in signatures]
        with tallies_follow(changed):
            Signature.objects.filter(pk__in=changed).update(status=status, **changes)
        petitions = {s.petition_id: s.petition for s in signatures}
        # Each petition's lead sponsor once, not once per signature.
        leads = {pk: petition.lead_sponsor_id() for pk, petition in petitions.items()}
        for signature in signatures:
            record_audit(
                action,
                actor,
                person=signature.person,
                details={"petition": signature.petition_id, "signature": signature.pk}
                | {k: v for k, v in changes.items() if k == "invalidated_reason"},
                organisation=leads[signature.petition_id],
            )

        def refresh_counts() -> None:
            # The public count never goes down on its own: an invalidation must say so.
            for petition in petitions.values():
                refresh_petition_count(petition, allow_decrease=True)

        transaction.on_commit(refresh_counts)
    return len(signatures)


def do_invalidate_signatures(actor: str, signature_ids: Collection[int], *, reason: str) -> int:
    """Stop counting these signatures (spam, duplicates), with the reason and the time.
    Returns how many changed; the public count drops once committed."""
    return _set_signature_status(
        actor,
        signature_ids,
        SignatureStatus.INVALIDATED,
        AuditAction.SIGNATURE_INVALIDATED,
        {"invalidated_reason": reason[:200], "invalidated_at": timezone.now()},
    )


def do_restore_signatures(actor: str, signature_ids: Collection[int]) -> int:
    """Count these invalidated signatures again. Returns how many changed."""
    return _set_signature_status(
        actor,
        signature_ids,
        SignatureStatus.VALID,
        AuditAction.SIGNATURE_RESTORED,
        {"invalidated_at": None},
    )


def do_invalidate_signature_chunk(
    petition: Petition, signature_ids: Collection[int], *, reason: str, at: datetime
) -> list[int]:
    """One chunk of a bulk invalidation (the trust page): those of these signatures of
    the petition that are valid stop counting, marked with the reason and `at`. Returns
    their ids. The caller records one audit entry for the whole batch and, once it is
    done, calls refresh_petition_count(..., allow_decrease=True): recounting a big
    petition after every chunk would cost more than the chunks."""
    return _change_chunk(
        petition,
        signature_ids,
        Signature.objects.filter(status=SignatureStatus.VALID),
        {
            "status": SignatureStatus.INVALIDATED,
            "invalidated_reason": reason[:200],
            "invalidated_at": at,
        },
    )


def do_restore_signature_chunk(
    petition: Petition, signature_ids: Collection[int], *, invalidated_at: datetime
) -> list[int]:
    """Undo one chunk of a bulk invalidation: of these signatures, those still
    invalidated at `invalidated_at` (not one restored and invalidated again since)
    count again. Returns their ids; the caller recounts, as above."""
    return _change_chunk(
        petition,
        signature_ids,
        Signature.objects.filter(status=SignatureStatus.INVALIDATED, invalidated_at=invalidated_at),
        {"status": SignatureStatus.VALID, "invalidated_at": None, "invalidated_reason": ""},
    )


def _change_chunk(
    petition: Petition,
    signature_ids: Collection[int],
    which: QuerySet[Signature],
    changes: dict[str, Any],
) -> list[int]:
    with transaction.atomic():
        changed = list(
            which.select_for_update()
            .filter(petition=petition, pk__in=list(signature_ids))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if changed:
            with tallies_follow(changed):
                Signature.objects.filter(pk__in=changed).update(**changes)
    return changed


def refresh_count_after_changes(petition: Petition) -> None:
    """Recount the petition's public count (down, too) once the caller's transaction
    commits: after a bulk invalidation or its undo."""
    transaction.on_commit(lambda: refresh_petition_count(petition, allow_decrease=True))


def do_anonymise_closed_petitions(*, months: int, actor: str) -> dict[str, int]:
    """Forget who signed petitions closed more than `months` ago.

    Signatures stay, so counts stay right, but lose their signer, comment and
    referring page. A person left with no signature and no subscription is
    removed: we have no reason to keep them.
    """
    cutoff = timezone.now() - timedelta(days=30 * months)
    petitions = list(
        Petition.objects.filter(status=PetitionStatus.CLOSED, closed_at__lt=cutoff).values_list(
            "pk", flat=True
        )
    )
    with transaction.atomic():
        signatures = Signature.objects.filter(petition_id__in=petitions, person__isnull=False)
        people = set(signatures.values_list("person_id", flat=True))
        anonymised = signatures.update(
            person=None,
            comment="",
            show_name=False,
            http_referer="",
            referrer=None,
            anonymised_at=timezone.now(),
        )
        removed = do_delete_people_without_purpose(people, actor=actor)
    return {"petitions": len(petitions), "signatures": anonymised, "people_removed": removed}


# Rows per transaction when old networks are blanked: the first run on a large table
# must not hold the write lock for long.
FORGET_CHUNK = 5_000


def do_forget_signature_networks(*, older_than: datetime) -> int:
    """Blank the client network of signatures made before `older_than` (the hourly
    retention task, SIGNATURE_NETWORK_RETENTION_DAYS): the rate limits need the last day
    and the trust page the last month, nothing needs more. How many were blanked."""
    kept = Signature.objects.filter(created_at__lt=older_than).exclude(client_network="")
    changed = 0
    while True:
        with transaction.atomic():
            ids = list(kept.values_list("pk", flat=True)[:FORGET_CHUNK])
            if not ids:
                return changed
            changed += Signature.objects.filter(pk__in=ids).update(client_network="")
