"""One periodic check waits in the database queue, however often workers start."""

from __future__ import annotations

from typing import Any

import pytest
from django_tasks_db.models import DBTaskResult

from groundswell.mailings.tasks import periodic_check, schedule_periodic_check


@pytest.mark.django_db(transaction=True)
def test_it_queues_the_periodic_check_once(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    for _ in range(3):
        schedule_periodic_check()
    waiting = DBTaskResult.objects.filter(status="READY", task_path=periodic_check.module_path)
    assert waiting.count() == 1
