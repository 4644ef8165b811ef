"""Rows of django-tasks-db's task table: what they may keep about people, and for how long.

A task's arguments, return value and traceback can hold an email address or a link
that still works (the members' emails take both). Finished rows are kept for a day,
to look into a failure, then pruned (tasks.prune_task_results, kept queued by every
`groundswell worker`); erasure removes at once every row, finished or waiting, that
names the erased address.
"""

from __future__ import annotations

import json
from datetime import timedelta

from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from groundswell.members.models import Person

KEEP_FINISHED = timedelta(days=1)
PRUNE_EVERY = timedelta(hours=1)
# Deleting a running task's row would make the worker write it back when it finishes.
RUNNING = "RUNNING"


def prune_finished(*, keep: timedelta = KEEP_FINISHED) -> int:
    """Delete the rows of tasks that finished (or failed) longer than `keep` ago."""
    cutoff = timezone.now() - keep
    deleted, _ = DBTaskResult.objects.finished().filter(finished_at__lt=cutoff).delete()
    return deleted


def forget_person(person: Person) -> dict[str, int]:
    """Delete every task row not running whose arguments, result or traceback hold the
    person's address (as typed or normalised)."""
    matches = Q()
    for address in {person.email, person.email_normalised} - {""}:
        # Stored as JSON: SQLite keeps json.dumps' escapes, PostgreSQL the characters.
        for text in {address, json.dumps(address)[1:-1]}:
            matches |= (
                Q(arguments__icontains=text)
                | Q(result__icontains=text)
                | Q(traceback__icontains=text)
            )
    if not matches:
        return {}
    DBTaskResult.objects.annotate(
        arguments=Cast("args_kwargs", TextField()), result=Cast("return_value", TextField())
    ).filter(matches).exclude(status=RUNNING).delete()
    return {}
