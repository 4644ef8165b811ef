"""People imports from the workspace: a CSV uploaded, its columns chosen, then imported
by a background task in one transaction (members' import action, and the petition's
signatures when one was chosen), with its progress written to a small file and its
refused rows kept as a report. A failure changes nothing but the import's own record."""

from __future__ import annotations

import csv
import io
import logging
import os
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from groundswell.lib.csvsafe import csv_text
from groundswell.lib.stopping import TaskStopped, tasks_should_stop
from groundswell.members.actions.imports import do_import_people
from groundswell.members.imports import FIELDS, read_rows
from groundswell.orgs.models import MailingList
from groundswell.petitions.actions.imports import do_import_signatures
from groundswell.petitions.models import Petition
from groundswell.workspace.models import ImportStatus, PeopleImport

logger = logging.getLogger(__name__)


def count_rows(text: str) -> int:
    """Data rows in the CSV (the header not counted, blank rows not counted)."""
    reader = csv.reader(io.StringIO(text))
    next(reader, None)
    return sum(1 for cells in reader if any(cell.strip() for cell in cells))


def do_upload_import(
    *,
    mailing_list: MailingList,
    petition: Petition | None,
    file_name: str,
    text: str,
    columns: dict[str, int],
    consent_text: str,
    source: str,
    actor: str,
) -> PeopleImport:
    """Keep the file and what staff said about it; nothing is imported yet."""
    with transaction.atomic():
        return PeopleImport.objects.create(
            organisation_id=mailing_list.organisation_id,
            mailing_list=mailing_list,
            petition=petition,
            created_by=actor[:200],
            file_name=file_name[:200],
            data=text,
            columns=columns,
            consent_text=consent_text,
            source=source[:100],
            rows=count_rows(text),
        )


def do_choose_columns(people_import: PeopleImport, columns: dict[str, int]) -> None:
    with transaction.atomic():
        PeopleImport.objects.filter(
            pk=people_import.pk, status__in=[ImportStatus.UPLOADED, ImportStatus.FAILED]
        ).update(columns={field: index for field, index in columns.items() if field in FIELDS})


def do_start_import(people_import: PeopleImport) -> bool:
    """Queue the import (once: a second press does nothing). A failed one may be
    started again: it changed nothing."""
    from groundswell.workspace.tasks import run_people_import

    with transaction.atomic():
        started = PeopleImport.objects.filter(
            pk=people_import.pk, status__in=[ImportStatus.UPLOADED, ImportStatus.FAILED]
        ).update(status=ImportStatus.QUEUED, error="", finished_at=None)
        if started:
            pk = people_import.pk
            transaction.on_commit(lambda: run_people_import.enqueue(pk))
    return bool(started)


def progress_file(import_id: int) -> Path:
    return Path(settings.DATA_DIR) / "imports" / f"{import_id}.progress"


def read_progress(import_id: int) -> int | None:
    """Rows done so far by a running import, when this machine runs it (the worker
    writes the file; on several machines the page may not see it)."""
    try:
        return int(progress_file(import_id).read_text() or 0)
    except (OSError, ValueError):
        return None


class _TakenOver(Exception):
    """Another run took the import while this one was writing it."""


def _write_progress(path: Path, done: int) -> None:
    # The transaction holds the import's writes until the end, so progress cannot be
    # a row (on SQLite another connection's write would wait for the lock): a file,
    # replaced whole so a reader never sees half a number.
    partial = path.with_suffix(".tmp")
    partial.write_text(str(done))
    os.replace(partial, path)
    # Between batches: the moment a stopping worker can let go of the import.
    if tasks_should_stop():
        raise TaskStopped


def do_run_import(import_id: int) -> PeopleImport | None:
    """The background task's work: everything in one transaction, the import's record
    updated in the same one; on failure only the record changes (to failed).

    A run whose worker died (kill -9: taskworker.py runs the task again) left nothing
    but the status *running*, so a run takes a running import too; its last write
    checks that no other run took the import since, or undoes everything. A run whose
    worker is asked to stop gives the import back to the queue, untouched."""
    started_at = timezone.now()
    with transaction.atomic():
        claimed = PeopleImport.objects.filter(
            pk=import_id, status__in=[ImportStatus.QUEUED, ImportStatus.RUNNING]
        ).update(status=ImportStatus.RUNNING, started_at=started_at)
    if not claimed:
        return None
    job = PeopleImport.objects.select_related("mailing_list", "petition").get(pk=import_id)
    ours = PeopleImport.objects.filter(
        pk=job.pk, status=ImportStatus.RUNNING, started_at=started_at
    )
    path = progress_file(job.pk)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with transaction.atomic():
            result = do_import_people(
                read_rows(job.data, {k: int(v) for k, v in job.columns.items()}),
                job.mailing_list,
                consent_text=job.consent_text,
                source=job.source,
                actor=job.created_by,
                progress=lambda done: _write_progress(path, done),
            )
            signed = 0
            if job.petition is not None:
                signed = do_import_signatures(
                    job.petition,
                    result.person_ids,
                    source=f"import:{job.source}",
                    actor=job.created_by,
                )
            report = (
                csv_text(
                    [["line", "email", "reason"]]
                    + [[r.line, r.email, r.reason] for r in result.rejected]
                )
                if result.rejected
                else ""
            )
            finished = ours.update(
                status=ImportStatus.DONE,
                imported=result.imported,
                updated=result.updated,
                held=result.held,
                signed=signed,
                rejected=len(result.rejected),
                rejected_report=report,
                # The people are in the database now; the file is not kept.
                data="",
                finished_at=timezone.now(),
            )
            if not finished:
                raise _TakenOver
    except _TakenOver:
        logger.warning("people import %s was taken over by another run", job.pk)
        return None
    except TaskStopped:
        from groundswell.workspace.tasks import run_people_import

        with transaction.atomic():
            if ours.update(status=ImportStatus.QUEUED, started_at=None):
                transaction.on_commit(lambda: run_people_import.enqueue(job.pk))
        logger.info("people import %s handed back: its worker is stopping", job.pk)
    except Exception as error:  # any failure: nothing imported; say why
        logger.exception("people import %s failed", job.pk)
        with transaction.atomic():
            PeopleImport.objects.filter(pk=job.pk).update(
                status=ImportStatus.FAILED,
                error=_("%(kind)s: %(detail)s") % {"kind": type(error).__name__, "detail": error},
                finished_at=timezone.now(),
            )
    finally:
        path.unlink(missing_ok=True)
    job.refresh_from_db()
    return job
