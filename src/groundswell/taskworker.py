"""`groundswell worker`: django-tasks-db's worker with what it lacks when things break.

Stopping. django-tasks-db's worker, sent SIGTERM, waits for the task it runs to end,
which for a send lane is its whole time slice and for a batch of emails every
message. Here the signal also sets lib/stopping.py's flag, which long tasks read
between messages: a send lane gives back its window's unstarted rest, a batch of
thank-you emails and a people import hand the rest to the queue. So a worker stops
within seconds, and another worker finishes what it was doing.

Dying. A worker killed (kill -9, the OOM killer, a host lost) leaves its task
*running* for good: django-tasks-db never looks at it again. Here every worker
notes, while it runs a task, that it is alive: it holds a lock file under
DATA_DIR/run/task-workers/ (the kernel drops it with the process), and it refreshes
the task row's `run_after` (unused while a task runs) every HEARTBEAT seconds. Each
worker looks every RECOVER_EVERY seconds for running tasks whose worker is dead: on
this host, its lock is free; anywhere, its heartbeat is older than STALE_AFTER. Such a
task is queued again and runs again, so tasks must be safe to run twice: the send
lanes recover through the send journal (mailings/recovery.py), an import is one
transaction, a thank-you email is marked sent once sent.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import secrets
import socket
import threading
from datetime import datetime, timedelta
from pathlib import Path
from types import FrameType

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone
from django_tasks_db.compat import DEFAULT_TASK_BACKEND_ALIAS, DEFAULT_TASK_QUEUE_NAME
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult, get_date_max

from groundswell.lib.stopping import ask_tasks_to_stop

logger = logging.getLogger(__name__)

HEARTBEAT = 10.0
RECOVER_EVERY = 10.0
# A running task not heard of for this long is taken for dead, wherever it runs.
STALE_AFTER = timedelta(seconds=60)

_HOSTNAME = socket.gethostname()


def new_worker_id() -> str:
    """host:pid:random, under django-tasks-db's 64 characters."""
    return f"{_HOSTNAME[:30]}:{os.getpid()}:{secrets.token_hex(6)}"


def _locks_dir() -> Path:
    return Path(settings.DATA_DIR) / "run" / "task-workers"


class TaskWorker(Worker):
    def __init__(self, *, interval: float, batch: bool) -> None:
        super().__init__(
            queue_names=[DEFAULT_TASK_QUEUE_NAME],
            interval=interval,
            batch=batch,
            backend_name=DEFAULT_TASK_BACKEND_ALIAS,
            startup_delay=not batch,
            max_tasks=None,
            worker_id=new_worker_id(),
            excluded_queue_names=[],
        )
        self._task_id: str | None = None
        self._done = threading.Event()

    def shutdown(self, signum: int, frame: FrameType | None) -> None:
        ask_tasks_to_stop()
        super().shutdown(signum, frame)

    def run(self) -> None:
        lock = self._hold_lock()
        with contextlib.suppress(DatabaseError):
            recover_dead_workers_tasks(self.worker_id)
        watcher = threading.Thread(target=self._watch, name="task-heartbeat", daemon=True)
        watcher.start()
        try:
            super().run()
        finally:
            self._done.set()
            os.close(lock)
            with contextlib.suppress(OSError):
                (_locks_dir() / f"{self.worker_id}.lock").unlink()

    def run_task(self, db_task_result: DBTaskResult) -> None:
        # The first heartbeat: a task queued to run "whenever" has run_after far ahead.
        DBTaskResult.objects.filter(pk=db_task_result.pk).update(run_after=timezone.now())
        self._task_id = str(db_task_result.pk)
        try:
            super().run_task(db_task_result)
        finally:
            self._task_id = None

    def _hold_lock(self) -> int:
        _locks_dir().mkdir(parents=True, exist_ok=True)
        fd = os.open(_locks_dir() / f"{self.worker_id}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        return fd

    def _watch(self) -> None:
        """The heartbeat and the search for dead workers' tasks, on a thread of their own
        (its own database connection) so a long task does not hold them up."""
        while not self._done.wait(min(HEARTBEAT, RECOVER_EVERY)):
            try:
                close_old_connections()
                task_id = self._task_id
                if task_id is not None:
                    DBTaskResult.objects.filter(pk=task_id, status="RUNNING").update(
                        run_after=timezone.now()
                    )
                recover_dead_workers_tasks(self.worker_id)
            except DatabaseError:
                # The database away or locked by a long task: the next round tries again.
                logger.warning("Task heartbeat could not be written; trying again.")
        connection.close()


def recover_dead_workers_tasks(own_worker_id: str = "") -> int:
    """Queue again the running tasks whose worker is dead; how many."""
    now = timezone.now()
    requeued = 0
    for task in DBTaskResult.objects.filter(status="RUNNING").only(
        "pk", "worker_ids", "run_after", "started_at", "task_path"
    ):
        worker_id = task.worker_ids[-1] if task.worker_ids else ""
        if worker_id == own_worker_id or not _is_dead(worker_id, task, now):
            continue
        # Conditional on the claim it saw: a worker that took it again meanwhile wins.
        if DBTaskResult.objects.filter(
            pk=task.pk, status="RUNNING", started_at=task.started_at
        ).update(status="READY", started_at=None, run_after=now):
            requeued += 1
            logger.warning("Task %s of a dead worker queued again", task.task_path)
    return requeued


def _is_dead(worker_id: str, task: DBTaskResult, now: datetime) -> bool:
    host, _, rest = worker_id.partition(":")
    if host == _HOSTNAME[:30] and rest:
        lock = _locks_dir() / f"{worker_id}.lock"
        with contextlib.suppress(FileNotFoundError):
            fd = os.open(lock, os.O_RDWR)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False  # it holds its lock: alive
            finally:
                os.close(fd)
            lock.unlink(missing_ok=True)
            return True
    # Another host, or another data directory here: by its heartbeat.
    heard = task.run_after if task.run_after != get_date_max() else task.started_at
    return heard is None or heard < now - STALE_AFTER
