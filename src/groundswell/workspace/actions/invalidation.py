"""Bulk invalidation from the trust page, and its undo.

A batch takes the valid signatures its criteria match when it starts, in chunks of
CHUNK, each chunk its own short transaction (on SQLite a transaction holds the lock
every signer waits for; a hundred thousand signatures in one would stop signing for
as long): the signatures stop counting, the dashboard's tallies follow, and their ids
are stored with the batch. The audit entry, with the number and the criteria, and
the recount of the public count come at the end. A batch stopped part-way (the
process died) keeps what it did, recorded: its `finished_at` stays empty and its undo
restores exactly those.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from groundswell.members.actions.audit import record_audit
from groundswell.members.models import AuditAction
from groundswell.petitions.actions.signatures import (
    do_invalidate_signature_chunk,
    do_restore_signature_chunk,
    refresh_count_after_changes,
)
from groundswell.petitions.models import Petition
from groundswell.workspace.invalidation import Criteria, describe, matching
from groundswell.workspace.models import InvalidatedSignature, InvalidationBatch

CHUNK = 2000


class NotUndoable(Exception):
    """The batch was undone already, or took nothing."""


def _chunks(ids: Sequence[int], size: int = CHUNK) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def do_invalidate_in_bulk(
    actor: str, petition: Petition, criteria: Criteria, *, reason: str
) -> InvalidationBatch:
    """Invalidate the petition's valid signatures matching the criteria, as one batch
    that can be undone. Returns the batch."""
    reason = reason.strip()[:200]
    if criteria.is_empty or not reason:
        raise ValueError("a bulk invalidation needs a criterion and a reason")
    details = criteria.as_details()
    with transaction.atomic():
        batch = InvalidationBatch.objects.create(
            petition=petition,
            criteria=details,
            reason=reason,
            created_by=actor,
            created_at=timezone.now(),
        )
    # What the preview counted, fixed now: a signature arriving meanwhile is not taken.
    candidates = list(matching(petition, criteria).order_by("pk").values_list("pk", flat=True))
    for chunk in _chunks(candidates):
        with transaction.atomic():
            # The batch's row is the chunks' lock: an undo started meanwhile stops them.
            current = InvalidationBatch.objects.select_for_update().get(pk=batch.pk)
            if current.undone_at is not None:
                break
            changed = do_invalidate_signature_chunk(
                petition, chunk, reason=reason, at=batch.created_at
            )
            InvalidatedSignature.objects.bulk_create(
                [InvalidatedSignature(batch=batch, signature_id=pk) for pk in changed]
            )
            current.invalidated += len(changed)
            current.save(update_fields=["invalidated"])
    with transaction.atomic():
        batch = InvalidationBatch.objects.select_for_update().get(pk=batch.pk)
        batch.finished_at = timezone.now()
        batch.save(update_fields=["finished_at"])
        record_audit(
            AuditAction.SIGNATURES_INVALIDATED_IN_BULK,
            actor,
            details=_audit_details(batch, details) | {"invalidated": batch.invalidated},
            organisation=petition.lead_sponsor_id(),
        )
        refresh_count_after_changes(petition)
    return batch


def do_undo_invalidation(actor: str, batch: InvalidationBatch) -> InvalidationBatch:
    """Count again exactly the signatures this batch invalidated, except any that were
    restored and invalidated again by something else since. Returns the batch."""
    with transaction.atomic():
        # A conditional UPDATE: of two undos at once, one runs.
        claimed = InvalidationBatch.objects.filter(
            pk=batch.pk, undone_at__isnull=True, invalidated__gt=0
        ).update(undone_at=timezone.now(), undone_by=actor)
    if not claimed:
        raise NotUndoable
    batch.refresh_from_db()
    ids = list(
        InvalidatedSignature.objects.filter(batch=batch)
        .order_by("signature_id")
        .values_list("signature_id", flat=True)
    )
    for chunk in _chunks(ids):
        with transaction.atomic():
            restored = do_restore_signature_chunk(
                batch.petition, chunk, invalidated_at=batch.created_at
            )
            InvalidationBatch.objects.filter(pk=batch.pk).update(
                restored=F("restored") + len(restored)
            )
            batch.restored += len(restored)
    with transaction.atomic():
        record_audit(
            AuditAction.SIGNATURES_RESTORED_IN_BULK,
            actor,
            details=_audit_details(batch, batch.criteria)
            | {"invalidated": batch.invalidated, "restored": batch.restored},
            organisation=batch.petition.lead_sponsor_id(),
        )
        refresh_count_after_changes(batch.petition)
    return batch


def _audit_details(batch: InvalidationBatch, details: dict) -> dict:
    shown = {k: v for k, v in details.items() if k != "ids"}
    if "ids" in details:
        shown["ids"] = len(details["ids"])
    return {
        "petition": batch.petition_id,
        "slug": batch.petition.slug,
        "batch": batch.pk,
        "criteria": describe(details),
        **shown,
        "reason": batch.reason,
    }
