"""Finished background task rows are pruned: every worker prunes as it starts and keeps
a pruning task queued, so arguments (addresses, links) do not pile up for ever."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from groundswell.members.tasks import send_member_email
from groundswell.tasks import prune_task_results


@pytest.fixture
def database_tasks(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def queue_email(to: str, *, finished_ago: timedelta | None) -> DBTaskResult:
    result = send_member_email.enqueue("privacy-export", to, {"link": "http://x/"})
    row = DBTaskResult.objects.get(pk=result.id)
    if finished_ago is not None:
        row.status, row.finished_at = "SUCCESSFUL", timezone.now() - finished_ago
        row.save(update_fields=["status", "finished_at"])
    return row


@pytest.mark.django_db(transaction=True)
def test_a_starting_worker_prunes_rows_finished_over_a_day_ago_and_keeps_pruning_queued(
    database_tasks: None,
) -> None:
    old = queue_email("old@example.org", finished_ago=timedelta(days=2))
    recent = queue_email("recent@example.org", finished_ago=timedelta(hours=2))
    waiting = queue_email("waiting@example.org", finished_ago=None)
    DBTaskResult.objects.filter(pk=waiting.pk).update(run_after=timezone.now() + timedelta(days=1))

    call_command("worker", burst=True, interval=0, verbosity=0)

    left = set(DBTaskResult.objects.values_list("pk", flat=True))
    assert old.pk not in left
    assert {recent.pk, waiting.pk} <= left
    [pruning] = DBTaskResult.objects.filter(task_path=prune_task_results.module_path)
    assert pruning.status == "READY"
    assert pruning.run_after > timezone.now() + timedelta(minutes=59)

    # Another start, or the task itself running, leaves one pruning task queued.
    call_command("worker", burst=True, interval=0, verbosity=0)
    prune_task_results.call()
    assert DBTaskResult.objects.filter(task_path=prune_task_results.module_path).count() == 1
