"""Background work that belongs to no one app: retention.

A task's arguments, return value and traceback can hold an email address or a link
that still works (the members' emails take both). Finished rows are kept for a day
(TASK_RESULTS_RETENTION_HOURS), to look into a failure, then pruned by
prune_task_results, which every `groundswell worker` keeps queued. The same hourly
task blanks old clicks' and opens' addresses (tracking/actions.py) and old signatures'
client networks (petitions/actions/signatures.py), and deletes the rate limits'
counted requests once no window needs them (limits/actions.py), and removes the
signatures never confirmed by email within SIGN_CONFIRM_DAYS
(petitions/actions/confirming.py). Erasure removes at
once the rows that name the erased person (members.tasks.forget_queued_emails).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from groundswell.lib.periodic import keep_queued
from groundswell.limits.actions import do_prune_limited_requests
from groundswell.petitions.actions.confirming import do_expire_unconfirmed_signatures
from groundswell.petitions.actions.signatures import do_forget_signature_networks
from groundswell.tracking.actions import do_forget_tracking_details

logger = logging.getLogger(__name__)

PRUNE_EVERY = timedelta(hours=1)


def prune_finished(*, keep: timedelta | None = None) -> int:
    """Delete the rows of tasks that finished (or failed) longer than `keep` ago
    (TASK_RESULTS_RETENTION_HOURS unless given)."""
    if keep is None:
        keep = timedelta(hours=settings.TASK_RESULTS_RETENTION_HOURS)
    cutoff = timezone.now() - keep
    deleted, _ = DBTaskResult.objects.finished().filter(finished_at__lt=cutoff).delete()
    return deleted


@task()
def prune_task_results() -> int:
    """The hourly retention task (its name is older than its other jobs): prune
    finished task rows, blank old clicks' and opens' addresses and browsers and old
    signatures' networks, delete counted requests no rate limit needs and expired
    unconfirmed signatures, then run again
    in PRUNE_EVERY (one such task waits in the queue). How many rows changed."""
    try:
        now = timezone.now()
        tracking = timedelta(days=settings.TRACKING_DETAILS_RETENTION_DAYS)
        networks = timedelta(days=settings.SIGNATURE_NETWORK_RETENTION_DAYS)
        return (
            prune_finished()
            + do_forget_tracking_details(older_than=now - tracking)
            + do_forget_signature_networks(older_than=now - networks)
            + do_prune_limited_requests(older_than=now - longest_email_request_window())
            + do_expire_unconfirmed_signatures(now=now)
        )
    finally:
        schedule_pruning()


def longest_email_request_window() -> timedelta:
    """How long a counted request can still matter: EMAIL_REQUEST_LIMITS' longest
    window (a day when the limits are off)."""
    periods = [w.period for rule in settings.EMAIL_REQUEST_LIMITS.values() for w in rule]
    return max(periods, default=timedelta(days=1))


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
