"""Sending a mailing: start and freeze, schedule, pause, resume, cancel, finish."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from groundswell.members.actions.audit import record_audit
from groundswell.members.models import AuditAction

from .. import recovery
from ..models import Mailing, MailingRecipient, MailingStatus, RecipientState, SendWorker
from ..progress import PENDING_STATES

if TYPE_CHECKING:
    from ..targeting import Target

logger = logging.getLogger(__name__)


class SendError(ValueError):
    """A send action that cannot be done, with a message staff can act on."""


FREEZE_BATCH = 2000


def locked(mailing: Mailing) -> Mailing:
    return Mailing.objects.select_for_update().get(pk=mailing.pk)


def _check_has_lists(mailing: Mailing) -> None:
    if not mailing.include_lists.exists():
        raise SendError(_("Choose at least one list to send to."))


def _check_sendable(mailing: Mailing) -> None:
    if not mailing.can_start():
        raise SendError(
            _("Only a draft or scheduled mailing can be sent; this one is %(status)s.")
            % {"status": mailing.get_status_display()}
        )
    _check_has_lists(mailing)
    if mailing.subject_b and not 1 <= mailing.ab_sample_percent <= 50:
        raise SendError(_("Each A/B sample must be between 1% and 50% of the recipients."))
    from ..rendering import prepare_mailing

    try:
        # Also numbers and stores the tracked links, frozen from here on.
        prepare_mailing(mailing)
    except ValueError as error:
        raise SendError(_("The mailing cannot be built: %(error)s") % {"error": error}) from None


def _freeze_batch(mailing: Mailing, batch: list[Target], *, resuming: bool) -> bool:
    """One batch of recipients in its own short transaction; False once the mailing is no
    longer being prepared (cancelled meanwhile): then nothing is inserted."""
    if resuming:
        # Carrying on after a crash: people frozen before it are left out.
        frozen = set(
            MailingRecipient.objects.filter(
                mailing=mailing, person_id__in=[t.person_id for t in batch]
            ).values_list("person_id", flat=True)
        )
        batch = [t for t in batch if t.person_id not in frozen]
    variant = "" if mailing.subject_b else "A"
    with transaction.atomic():
        # Also takes the mailing's row lock: a cancel waits for this batch or stops the next.
        still_preparing = Mailing.objects.filter(
            pk=mailing.pk, status=MailingStatus.PREPARING
        ).update(recipient_count=F("recipient_count") + len(batch))
        if not still_preparing:
            return False
        MailingRecipient.objects.bulk_create(
            [
                MailingRecipient(
                    mailing=mailing, person_id=t.person_id, email=t.email, variant=variant
                )
                for t in batch
            ],
            batch_size=FREEZE_BATCH,
            # one_copy_per_person: two processes carrying on the same freeze insert each
            # person once.
            ignore_conflicts=True,
        )
    return True


def _draw_ab_samples(mailing: Mailing, total: int) -> None:
    sample = max(1, total * mailing.ab_sample_percent // 100) if total else 0
    table = connection.ops.quote_name(MailingRecipient._meta.db_table)
    with connection.cursor() as cursor:
        for name in ("A", "B"):
            # A uniformly random sample of those not yet in a sample.
            cursor.execute(
                f"UPDATE {table} SET variant = %s WHERE id IN (SELECT id FROM {table} "  # noqa: S608
                f"WHERE mailing_id = %s AND variant = '' ORDER BY RANDOM() LIMIT %s)",
                [name, mailing.pk, sample],
            )


def _prepare(mailing_id: int, preparer: str, actor: str) -> Mailing:
    """Freeze the recipients of a *preparing* mailing, then open it for sending.

    One transaction per batch of FREEZE_BATCH people, so SQLite's write lock is never held
    for the whole list; the mailing stays *preparing* (nothing claimable) until the last
    one, which draws the A/B samples, counts, and sets *sending*. Safe to run again on a
    freeze a crash cut short: it carries on where that one stopped.
    """
    from ..targeting import iter_target_batches

    mailing = Mailing.objects.get(pk=mailing_id)
    resuming = MailingRecipient.objects.filter(mailing=mailing).exists()
    try:
        for batch in iter_target_batches(mailing, FREEZE_BATCH):
            if not _freeze_batch(mailing, batch, resuming=resuming):
                return Mailing.objects.get(pk=mailing_id)
            recovery.beat(preparer)
        with transaction.atomic():
            mailing = locked(mailing)
            if mailing.status != MailingStatus.PREPARING:
                return mailing
            total = MailingRecipient.objects.filter(mailing=mailing).count()
            if mailing.subject_b:
                _draw_ab_samples(mailing, total)
            mailing.recipient_count = total
            mailing.status = MailingStatus.SENDING
            mailing.save(update_fields=["status", "recipient_count", "updated_at"])
            # Gone before the lanes are counted (on commit), or it would pass for one.
            SendWorker.objects.filter(worker_id=preparer).delete()
            logger.info("Mailing %s started by %s: %d recipients", mailing.pk, actor, total)
            transaction.on_commit(lambda: after_start(mailing_id))
        return mailing
    finally:
        # Stopped early (cancelled, or an error): the watchdog carries on a freeze whose
        # mailing is still preparing and has no preparer.
        SendWorker.objects.filter(worker_id=preparer).delete()


def do_start_send(mailing: Mailing, *, actor: str = "staff") -> Mailing:
    """Freeze the recipients and start sending (the Send button, `groundswell mailing send`).

    Returns the mailing *sending* (or *cancelled*, if staff cancelled during the freeze).
    """
    with transaction.atomic():
        mailing = locked(mailing)
        _check_sendable(mailing)
        now = timezone.now()
        mailing.status = MailingStatus.PREPARING
        mailing.started_at = now
        mailing.scheduled_at = mailing.scheduled_at or now
        mailing.finished_at = None
        mailing.recipient_count = 0
        mailing.save(
            update_fields=[
                "status",
                "started_at",
                "scheduled_at",
                "finished_at",
                "recipient_count",
                "updated_at",
            ]
        )
        _audit_send(mailing, AuditAction.MAILING_SENT, actor)
        preparer = recovery.register_worker(mailing.pk)
    return _prepare(mailing.pk, preparer, actor)


def do_finish_preparing(mailing_id: int, *, actor: str = "watchdog") -> Mailing | None:
    """Carry on a freeze whose process died (the watchdog). None if another process is on
    it or it is no longer preparing."""
    with transaction.atomic():
        mailing = (
            Mailing.objects.select_for_update()
            .filter(pk=mailing_id, status=MailingStatus.PREPARING)
            .first()
        )
        if mailing is None or SendWorker.objects.filter(mailing=mailing).exists():
            return None
        preparer = recovery.register_worker(mailing_id)
    logger.warning("Mailing %s: carrying on the freeze of its recipients", mailing_id)
    return _prepare(mailing_id, preparer, actor)


def after_start(mailing_id: int) -> None:
    from ..tasks import ensure_lanes

    if not MailingRecipient.objects.filter(mailing_id=mailing_id).exists():
        do_finish_send(mailing_id)
        return
    ensure_lanes(mailing_id)


def do_schedule_send(mailing: Mailing, when: datetime, *, actor: str = "staff") -> Mailing:
    """Send at `when`: a task starts it then (and the periodic check, should that be lost)."""
    with transaction.atomic():
        mailing = locked(mailing)
        if not mailing.can_start():
            raise SendError(_("Only a draft mailing can be scheduled."))
        _check_has_lists(mailing)
        mailing.status = MailingStatus.SCHEDULED
        mailing.scheduled_at = when
        mailing.save(update_fields=["status", "scheduled_at", "updated_at"])
        _audit_send(mailing, AuditAction.MAILING_SCHEDULED, actor, send_at=when.isoformat())
        mailing_id = mailing.pk
        transaction.on_commit(lambda: _after_schedule(mailing_id, when))
    return mailing


def _after_schedule(mailing_id: int, when: datetime) -> None:
    from ..tasks import enqueue_at, start_scheduled_mailing

    enqueue_at(start_scheduled_mailing, when, mailing_id)


def _audit_send(mailing: Mailing, action: AuditAction, actor: str, **details: Any) -> None:
    record_audit(
        action,
        actor,
        details={"mailing": mailing.pk, **details},
        organisation=mailing.organisation_id,
    )


def _locked_if(mailing: Mailing, allowed: Callable[[Mailing], bool], refusal: str) -> Mailing:
    """The mailing, locked; refused unless its model allows the change, as the page asked."""
    mailing = locked(mailing)
    if not allowed(mailing):
        raise SendError(refusal)
    return mailing


def do_unschedule_send(mailing: Mailing, *, actor: str = "staff") -> Mailing:
    """Back to a draft: nothing goes out at the scheduled time (its task finds it unscheduled)."""
    with transaction.atomic():
        mailing = _locked_if(mailing, Mailing.can_unschedule, _("This mailing is not scheduled."))
        was_at = mailing.scheduled_at
        mailing.status = MailingStatus.DRAFT
        mailing.scheduled_at = None
        mailing.save(update_fields=["status", "scheduled_at", "updated_at"])
        _audit_send(
            mailing,
            AuditAction.MAILING_UNSCHEDULED,
            actor,
            was_scheduled_at=was_at.isoformat() if was_at else None,
        )
    return mailing


def do_pause_send(mailing: Mailing, *, actor: str = "staff", pause_all: bool = False) -> Mailing:
    """Workers stop claiming; what they claimed but did not start goes back to the queue.

    A message being handed to the server at this instant finishes and is recorded.
    `pause_all`: paused by the kill switch (actions/kill_switch.py), which resumes
    only those.
    """
    with transaction.atomic():
        mailing = _locked_if(
            mailing, Mailing.can_pause, _("Only a mailing that is sending can be paused.")
        )
        mailing.status = MailingStatus.PAUSED
        mailing.save(update_fields=["status", "updated_at"])
        MailingRecipient.objects.filter(mailing=mailing, state=RecipientState.CLAIMED).update(
            state=RecipientState.QUEUED, claimed_by="", claimed_at=None
        )
        _audit_send(
            mailing, AuditAction.MAILING_PAUSED, actor, **({"pause_all": True} if pause_all else {})
        )
    return mailing


def do_resume_send(mailing: Mailing, *, actor: str = "staff") -> Mailing:
    with transaction.atomic():
        mailing = _locked_if(
            mailing, Mailing.can_resume, _("Only a paused mailing can be resumed.")
        )
        mailing.status = MailingStatus.SENDING
        mailing.save(update_fields=["status", "updated_at"])
        _audit_send(mailing, AuditAction.MAILING_RESUMED, actor)
        mailing_id = mailing.pk
        transaction.on_commit(lambda: after_start(mailing_id))
    return mailing


def do_cancel_send(mailing: Mailing, *, actor: str = "staff") -> Mailing:
    """No more messages go out; those not yet handed to the server become cancelled."""
    with transaction.atomic():
        mailing = _locked_if(
            mailing,
            Mailing.can_cancel,
            _("Only a scheduled, sending or paused mailing can be cancelled."),
        )
        was = mailing.status
        mailing.status = MailingStatus.CANCELLED
        mailing.finished_at = timezone.now()
        mailing.save(update_fields=["status", "finished_at", "updated_at"])
        cancelled = MailingRecipient.objects.filter(
            mailing=mailing, state__in=(RecipientState.QUEUED, RecipientState.CLAIMED)
        ).update(state=RecipientState.CANCELLED, claimed_by="", claimed_at=None)
        _audit_send(
            mailing, AuditAction.MAILING_CANCELLED, actor, was=was, copies_cancelled=cancelled
        )
    return mailing


def do_finish_send(mailing_id: int) -> bool:
    """Mark the mailing sent once no recipient is waiting. True if this call finished it."""
    with transaction.atomic():
        waiting = MailingRecipient.objects.filter(
            mailing_id=mailing_id, state__in=PENDING_STATES
        ).exists()
        if waiting:
            return False
        return (
            Mailing.objects.filter(pk=mailing_id, status=MailingStatus.SENDING).update(
                status=MailingStatus.SENT, finished_at=timezone.now(), updated_at=timezone.now()
            )
            == 1
        )
