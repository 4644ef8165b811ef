"""Signatures collected elsewhere (on paper, at a stall) for people just imported."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction

from groundswell.lib.db import insert_all
from groundswell.members.actions.audit import record_audit
from groundswell.members.models import AuditAction
from groundswell.petitions.counter import refresh_petition_count
from groundswell.petitions.models import Petition, PetitionStatus, Signature

CHUNK = 5000


class CannotSignDraft(ValueError):
    """A draft petition takes no signatures, imported or not."""


def do_import_signatures(
    petition: Petition, person_ids: Sequence[int], *, source: str, actor: str
) -> int:
    """Each of these people signs `petition`, unless they had signed it already; no
    thank-you email (they signed elsewhere and did not ask for one). Returns the
    signatures added. Runs in the caller's transaction when there is one (an import's),
    so a failure undoes the people too."""
    if petition.status == PetitionStatus.DRAFT:
        raise CannotSignDraft(petition.slug)
    wanted = list(dict.fromkeys(person_ids))
    added = 0
    with transaction.atomic():
        for start in range(0, len(wanted), CHUNK):
            chunk = wanted[start : start + CHUNK]
            signed = set(
                Signature.objects.filter(petition=petition, person_id__in=chunk)
                .order_by()  # by the (petition, person) index, not by date (actions/signing.py)
                .values_list("person_id", flat=True)
            )
            new = [
                Signature(petition=petition, person_id=pk, source=source[:100])
                for pk in chunk
                if pk not in signed
            ]
            insert_all(new)
            added += len(new)
        record_audit(
            AuditAction.SIGNATURES_IMPORTED,
            actor,
            organisation=petition.lead_sponsor_id(),
            details={"petition": petition.pk, "added": added, "source": source},
        )
        transaction.on_commit(lambda: refresh_petition_count(petition))
    return added
