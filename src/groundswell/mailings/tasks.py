"""Background work for mailings: send lanes, scheduled starts, A/B decisions, the watchdog.

A *lane* is one task that sends for up to LANE_SECONDS and then hands over to a
successor, so a worker process also runs other tasks between slices and a stopped
worker (SIGTERM) is never in the middle of a long task for long. A mailing wants
MAILING_SEND_LANES lanes (default 2, one per worker process you run); `ensure_lanes`
tops up to that number, counting live senders and lanes already in the queue.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from django_tasks import default_task_backend, task

from . import lanes, progress, recovery
from .actions.ab import do_choose_ab_winner, do_set_ab_decision_time, is_waiting_for_ab_winner
from .actions.send import SendError, do_finish_preparing, do_finish_send, do_start_send
from .models import Mailing, MailingStatus

logger = logging.getLogger(__name__)

LANE_SECONDS = 20.0
CHECK_EVERY = timedelta(seconds=30)


def lanes_wanted() -> int:
    return int(settings.MAILING_SEND_LANES)


def _can_defer() -> bool:
    return bool(default_task_backend.supports_defer)


def enqueue_at(task_: Any, when: datetime | None, *args: Any) -> None:
    """Enqueue now, or at `when` where the backend can wait (the immediate backend cannot:
    there the periodic check or an explicit call does it)."""
    if when is not None and when > timezone.now():
        if not _can_defer():
            return
        task_.using(run_after=when).enqueue(*args)
    else:
        task_.enqueue(*args)


def _queued_tasks(task_: Any, *args: Any) -> int:
    """Tasks of this kind and arguments waiting in the database queue (0 elsewhere)."""
    try:
        from django_tasks_db.backend import DatabaseBackend
        from django_tasks_db.models import DBTaskResult
    except ImportError:  # pragma: no cover
        return 0
    # default_task_backend is a proxy, never an instance of the backend's class.
    if not isinstance(task_.get_backend(), DatabaseBackend):
        return 0
    queued = DBTaskResult.objects.filter(status="READY", task_path=task_.module_path)
    for index, value in enumerate(args):
        queued = queued.filter(**{f"args_kwargs__args__{index}": value})
    return queued.count()


def ensure_lanes(mailing_id: int, *, when: datetime | None = None) -> int:
    """Top the mailing's lanes up to MAILING_SEND_LANES. Returns how many were enqueued."""
    missing = (
        lanes_wanted() - progress.live_lanes(mailing_id) - _queued_tasks(send_mailing, mailing_id)
    )
    for _ in range(max(0, missing)):
        enqueue_at(send_mailing, when, mailing_id)
    return max(0, missing)


def after_lane(mailing_id: int, report: lanes.LaneReport) -> None:
    """Decide what comes next for the mailing once a lane stops."""
    mailing = Mailing.objects.filter(pk=mailing_id).first()
    if mailing is None or mailing.status != MailingStatus.SENDING:
        return
    if report.stopped_because == "mail server unreachable":
        ensure_lanes(mailing_id, when=timezone.now() + timedelta(seconds=lanes.SERVER_DOWN_DELAY))
        return
    if progress.has_ready_recipients(mailing_id):
        ensure_lanes(mailing_id)
        return
    retry_at = progress.next_retry_at(mailing_id)
    if retry_at is not None:
        ensure_lanes(mailing_id, when=retry_at)
        return
    if is_waiting_for_ab_winner(mailing):
        decide_at = do_set_ab_decision_time(mailing_id)
        if decide_at is not None:
            enqueue_at(choose_ab_winner, decide_at, mailing_id)
        return
    do_finish_send(mailing_id)


@task()
def send_mailing(mailing_id: int) -> dict[str, Any]:
    """One lane: send the mailing's ready recipients for up to LANE_SECONDS."""
    report = lanes.SendLane(mailing_id).run(seconds=LANE_SECONDS)
    after_lane(mailing_id, report)
    return {
        "sent": report.sent,
        "failed": report.failed,
        "retried": report.retried,
        "unknown": report.unknown,
        "stopped": report.stopped_because,
    }


@task()
def start_scheduled_mailing(mailing_id: int) -> str:
    mailing = Mailing.objects.filter(pk=mailing_id).first()
    if mailing is None or mailing.status != MailingStatus.SCHEDULED:
        return "not scheduled"
    if mailing.scheduled_at and mailing.scheduled_at > timezone.now():
        return "not due yet"  # rescheduled later: that time's task starts it
    try:
        do_start_send(mailing, actor="schedule")
    except SendError as error:
        logger.error("Scheduled mailing %s could not start: %s", mailing_id, error)
        return f"not started: {error}"
    return "started"


@task()
def choose_ab_winner(mailing_id: int) -> str:
    mailing = Mailing.objects.filter(pk=mailing_id).first()
    if mailing is None or not is_waiting_for_ab_winner(mailing):
        return "nothing to decide"
    if mailing.ab_decide_at and mailing.ab_decide_at > timezone.now():
        return "not due yet"
    mailing = do_choose_ab_winner(mailing)
    return f"winner {mailing.ab_winner}"


def check_mailings() -> dict[str, int]:
    """The watchdog: start due scheduled mailings, recover dead senders' recipients, carry
    on freezes whose process died, make sure every sending mailing with work has lanes,
    take due A/B decisions."""
    started = 0
    now = timezone.now()
    for mailing in Mailing.objects.filter(status=MailingStatus.SCHEDULED, scheduled_at__lte=now):
        try:
            do_start_send(mailing, actor="schedule")
            started += 1
        except SendError as error:
            logger.error("Scheduled mailing %s could not start: %s", mailing.pk, error)
    requeued, unknown = recovery.recover_dead_workers()
    # A freeze cut short (its process died, its row just recovered): carry it on.
    for mailing_id in Mailing.objects.filter(status=MailingStatus.PREPARING).values_list(
        "pk", flat=True
    ):
        if do_finish_preparing(mailing_id) is not None:
            started += 1
    topped_up = 0
    for mailing in Mailing.objects.filter(status=MailingStatus.SENDING):
        if (
            is_waiting_for_ab_winner(mailing)
            and mailing.ab_decide_at is not None
            and mailing.ab_decide_at <= now
        ):
            do_choose_ab_winner(mailing)
        elif progress.has_ready_recipients(mailing.pk) and progress.live_lanes(mailing.pk) == 0:
            topped_up += ensure_lanes(mailing.pk)
        elif progress.live_lanes(mailing.pk) == 0:
            after_lane(mailing.pk, lanes.LaneReport())
    return {"started": started, "requeued": requeued, "unknown": unknown, "lanes": topped_up}


@task()
def periodic_check() -> dict[str, int]:
    """check_mailings, then again in CHECK_EVERY (one such task waits in the queue)."""
    try:
        return check_mailings()
    finally:
        schedule_periodic_check()


def schedule_periodic_check() -> None:
    if _can_defer() and _queued_tasks(periodic_check) == 0:
        periodic_check.using(run_after=timezone.now() + CHECK_EVERY).enqueue()


def on_worker_start() -> None:
    """Run by `groundswell worker` before it takes tasks: recover what a killed worker
    left behind (before this worker's lanes run) and keep the periodic check queued."""
    try:
        result = check_mailings()
        if any(result.values()):
            logger.info("Mailings at worker start: %s", result)
        schedule_periodic_check()
    except Exception:
        # A worker must still start and run other tasks; the periodic check retries.
        logger.exception("Mailing check at worker start failed")
