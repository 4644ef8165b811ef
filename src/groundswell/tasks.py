"""Background work that belongs to no one app: pruning django-tasks-db's table.

A task's arguments, return value and traceback can hold an email address or a link
that still works (the members' emails take both). Finished rows are kept for a day,
to look into a failure, then pruned by prune_task_results, which every
`groundswell worker` keeps queued. Erasure removes at once the rows that name the
erased person (members.tasks.forget_queued_emails).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.utils import timezone
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from groundswell.lib.periodic import keep_queued

logger = logging.getLogger(__name__)

KEEP_FINISHED = timedelta(days=1)
PRUNE_EVERY = timedelta(hours=1)


def prune_finished(*, keep: timedelta = KEEP_FINISHED) -> int:
    """Delete the rows of tasks that finished (or failed) longer than `keep` ago."""
    cutoff = timezone.now() - keep
    deleted, _ = DBTaskResult.objects.finished().filter(finished_at__lt=cutoff).delete()
    return deleted


@task()
def prune_task_results() -> int:
    """prune_finished, then again in PRUNE_EVERY (one such task waits in the queue)."""
    try:
        return prune_finished()
    finally:
        schedule_pruning()


def schedule_pruning() -> None:
    keep_queued(prune_task_results, PRUNE_EVERY)


def start_pruning() -> None:
    """Run by `groundswell worker` before it takes tasks: prune now, and keep the
    pruning task queued."""
    try:
        pruned = prune_finished()
        if pruned:
            logger.info("Pruned %s finished task rows", pruned)
        schedule_pruning()
    except Exception:
        # A worker must still start and run other tasks; the next start tries again.
        logger.exception("Pruning task rows at worker start failed")
