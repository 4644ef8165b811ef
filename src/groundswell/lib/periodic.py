"""Work repeated on a schedule: one copy of the task waits in the queue with a
`run_after`, and each run queues the next. Only with the database backend: the
immediate one (tests, scripts) keeps no rows and cannot wait."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult


def can_defer(task: Any) -> bool:
    return isinstance(task.get_backend(), DatabaseBackend)


def queued(task: Any) -> int:
    """How many runs of this task wait in the queue."""
    return DBTaskResult.objects.filter(status="READY", task_path=task.module_path).count()


def keep_queued(task: Any, every: timedelta) -> None:
    """Queue the next run in `every`, unless one already waits."""
    if can_defer(task) and queued(task) == 0:
        task.using(run_after=timezone.now() + every).enqueue()
