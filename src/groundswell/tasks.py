"""Background work that belongs to no one app."""

from __future__ import annotations

import logging

from django.utils import timezone
from django_tasks import default_task_backend, task
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from groundswell import task_results

logger = logging.getLogger(__name__)


@task()
def prune_task_results() -> int:
    """Prune finished task rows, then again in PRUNE_EVERY (one such task waits)."""
    try:
        return task_results.prune_finished()
    finally:
        schedule_pruning()


def schedule_pruning() -> None:
    """Keep one pruning task queued; run by `groundswell worker` as it starts."""
    if not isinstance(default_task_backend, DatabaseBackend):
        return
    waiting = DBTaskResult.objects.filter(
        status="READY", task_path=prune_task_results.module_path
    ).exists()
    if not waiting:
        prune_task_results.using(run_after=timezone.now() + task_results.PRUNE_EVERY).enqueue()


def start_pruning() -> None:
    """Run by `groundswell worker` before it takes tasks: prune now, and keep the
    pruning task queued."""
    try:
        pruned = task_results.prune_finished()
        if pruned:
            logger.info("Pruned %s finished task rows", pruned)
        schedule_pruning()
    except Exception:
        # A worker must still start and run other tasks; the next start tries again.
        logger.exception("Pruning task rows at worker start failed")
