"""Background work for the workspace: people imports."""

from __future__ import annotations

from django_tasks import task

from groundswell.workspace.actions.imports import do_run_import


@task()
def run_people_import(import_id: int) -> str:
    """Import an uploaded file (workspace/actions/imports.py). The task's arguments hold
    only the id: the file stays in the import's own record."""
    job = do_run_import(import_id)
    if job is None:
        return "not queued"
    return f"{job.status}: imported {job.imported}, updated {job.updated}, rejected {job.rejected}"
