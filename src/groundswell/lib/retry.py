"""One retry policy for everything that tries again after a temporary failure.

A policy is the list of waits before attempt 2, 3, …; after the last, we give up.
Tasks retry by enqueuing themselves again with `run_after` (django-tasks has no
retries of its own): `retry_task_later` does that, or says why it cannot.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    delays: tuple[int, ...]  # seconds before attempt 2, 3, …

    @property
    def max_attempts(self) -> int:
        return len(self.delays) + 1

    def delay_after(self, attempt: int) -> timedelta | None:
        """The wait after failed attempt number `attempt` (from 1), or None: give up."""
        if attempt < 1:
            raise ValueError("attempts are counted from 1")
        if attempt > len(self.delays):
            return None
        return timedelta(seconds=self.delays[attempt - 1])

    def retry_at(self, attempt: int, failed_at: datetime) -> datetime | None:
        delay = self.delay_after(attempt)
        return None if delay is None else failed_at + delay


def retry_task_later(
    task: Any, policy: RetryPolicy, attempt: int, args: Sequence[Any], *, what: str
) -> timedelta | None:
    """Enqueue `task(*args, attempt + 1)` after the policy's wait; the wait, or None
    (logged) when the attempts are used up or the task backend cannot wait."""
    delay = policy.delay_after(attempt)
    if delay is None:
        log.error("%s failed %s times; giving up.", what, attempt)
        return None
    backend = task.get_backend()
    if not backend.supports_defer:
        log.error("%s failed; the %s task backend cannot retry later.", what, backend.alias)
        return None
    task.using(run_after=timezone.now() + delay).enqueue(*args, attempt + 1)
    log.warning("%s failed (attempt %s); retrying in %s.", what, attempt, delay)
    return delay
