"""Importing people collected elsewhere (on paper, another tool) onto one list, with
the consent wording and source that applied when they were collected. All or
nothing: a failure changes nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import transaction

from groundswell.members.actions.audit import record_audit
from groundswell.members.actions.consent import Consent, do_subscribe_many
from groundswell.members.actions.people import do_fill_in_blanks, do_find_or_create_people
from groundswell.members.imports import Rejected, Row
from groundswell.members.models import AuditAction
from groundswell.orgs.models import MailingList

BATCH = 2000


@dataclass
class ImportResult:
    imported: int = 0  # new people
    updated: int = 0  # people we had, their blanks filled and the list joined
    held: int = 0  # of those, addresses that had left or been suppressed: asked by email
    rejected: list[Rejected] = field(default_factory=list)
    # Everyone imported or updated, in the file's order (a petition's signatures follow).
    person_ids: list[int] = field(default_factory=list)

    def summary(self) -> str:
        return f"imported {self.imported}, updated {self.updated}, rejected {len(self.rejected)}"


class DryRun(Exception):
    """Raised inside the transaction to roll a trial import back."""


def do_import_people(
    rows: Iterable[Row | Rejected],
    mailing_list: MailingList,
    *,
    consent_text: str,
    source: str,
    actor: str,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Find or create each person, fill in their blanks (never overwrite), and record
    their consent to the list with `consent_text` as its wording. Addresses that left
    the list or are suppressed are not brought back: they are asked by email
    (do_subscribe_many). With dry_run, everything is done and then rolled back.
    `progress` is told the rows done so far after each batch.

    Call it inside a transaction of your own to write more in the same one (a
    petition's signatures for the people imported): a failure there undoes all."""
    if not consent_text.strip():
        raise ValueError("An import needs the consent wording people agreed to.")
    if not source.strip():
        raise ValueError("An import needs its source (where the people came from).")
    result = ImportResult()
    try:
        with transaction.atomic():
            batch: list[Row] = []
            done = 0
            for row in rows:
                done += 1
                if isinstance(row, Rejected):
                    result.rejected.append(row)
                    continue
                batch.append(row)
                if len(batch) == BATCH:
                    _import_batch(batch, mailing_list, consent_text, source, result)
                    batch = []
                    if progress is not None:
                        progress(done)
            if batch:
                _import_batch(batch, mailing_list, consent_text, source, result)
            if progress is not None:
                progress(done)
            record_audit(
                AuditAction.PEOPLE_IMPORTED,
                actor,
                organisation=mailing_list.organisation_id,
                details={
                    "list": mailing_list.pk,
                    "source": source,
                    "imported": result.imported,
                    "updated": result.updated,
                    "held": result.held,
                    "rejected": len(result.rejected),
                },
            )
            if dry_run:
                raise DryRun
    except DryRun:
        pass
    return result


def _import_batch(
    batch: list[Row], mailing_list: MailingList, wording: str, source: str, result: ImportResult
) -> None:
    people = do_find_or_create_people(
        [(row.details, f"import:{source}") for row in batch],
        normalised_emails=[row.normalised for row in batch],
    )
    for row, (person, created) in zip(batch, people, strict=True):
        result.person_ids.append(person.pk)
        if created:
            result.imported += 1
        else:
            result.updated += 1
            do_fill_in_blanks(person, row.details)
    held = do_subscribe_many(
        [
            Consent(person, mailing_list, source=f"import:{source}", wording=wording)
            for person, _created in people
        ],
        new_people={person.pk for person, created in people if created},
    )
    result.held += len(held)
