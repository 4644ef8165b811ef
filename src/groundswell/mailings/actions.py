"""Changes to mailings: every write staff pages, the CLI and tasks make goes through here."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from groundswell.members.actions.audit import record_audit
from groundswell.members.models import AuditAction, Person

from . import recovery
from .ab_clicks import unique_clickers
from .models import (
    AbMetric,
    Mailing,
    MailingRecipient,
    MailingStatus,
    RecipientState,
    SendWorker,
)
from .progress import PENDING_STATES

if TYPE_CHECKING:
    from .targeting import Target

logger = logging.getLogger(__name__)


# === Send pipeline: start, schedule, pause, resume, cancel, A/B winner, finish ===========
# (owned by the sending work; compose functions live in their own section below)


class SendError(ValueError):
    """A send action that cannot be done, with a message staff can act on."""


FREEZE_BATCH = 2000


def _locked(mailing: Mailing) -> Mailing:
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
    from .rendering import prepare_mailing

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
    from .targeting import iter_target_batches

    mailing = Mailing.objects.get(pk=mailing_id)
    resuming = MailingRecipient.objects.filter(mailing=mailing).exists()
    try:
        for batch in iter_target_batches(mailing, FREEZE_BATCH):
            if not _freeze_batch(mailing, batch, resuming=resuming):
                return Mailing.objects.get(pk=mailing_id)
            recovery.beat(preparer)
        with transaction.atomic():
            mailing = _locked(mailing)
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
            transaction.on_commit(lambda: _after_start(mailing_id))
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
        mailing = _locked(mailing)
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


def _after_start(mailing_id: int) -> None:
    from .tasks import ensure_lanes

    if not MailingRecipient.objects.filter(mailing_id=mailing_id).exists():
        do_finish_send(mailing_id)
        return
    ensure_lanes(mailing_id)


def do_schedule_send(mailing: Mailing, when: datetime, *, actor: str = "staff") -> Mailing:
    """Send at `when`: a task starts it then (and the periodic check, should that be lost)."""
    with transaction.atomic():
        mailing = _locked(mailing)
        if not mailing.can_start():
            raise SendError(_("Only a draft mailing can be scheduled."))
        _check_has_lists(mailing)
        mailing.status = MailingStatus.SCHEDULED
        mailing.scheduled_at = when
        mailing.save(update_fields=["status", "scheduled_at", "updated_at"])
        mailing_id = mailing.pk
        transaction.on_commit(lambda: _after_schedule(mailing_id, when))
    return mailing


def _after_schedule(mailing_id: int, when: datetime) -> None:
    from .tasks import enqueue_at, start_scheduled_mailing

    enqueue_at(start_scheduled_mailing, when, mailing_id)


def _audit_send(mailing: Mailing, action: AuditAction, actor: str, **details: Any) -> None:
    record_audit(action, actor, details={"mailing": mailing.pk, **details})


def do_unschedule_send(mailing: Mailing, *, actor: str = "staff") -> Mailing:
    """Back to a draft: nothing goes out at the scheduled time (its task finds it unscheduled)."""
    with transaction.atomic():
        mailing = _locked(mailing)
        if not mailing.can_unschedule():
            raise SendError(_("This mailing is not scheduled."))
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


def do_pause_send(mailing: Mailing, *, actor: str = "staff") -> Mailing:
    """Workers stop claiming; what they claimed but did not start goes back to the queue.

    A message being handed to the server at this instant finishes and is recorded.
    """
    with transaction.atomic():
        mailing = _locked(mailing)
        if not mailing.can_pause():
            raise SendError(_("Only a mailing that is sending can be paused."))
        mailing.status = MailingStatus.PAUSED
        mailing.save(update_fields=["status", "updated_at"])
        MailingRecipient.objects.filter(mailing=mailing, state=RecipientState.CLAIMED).update(
            state=RecipientState.QUEUED, claimed_by="", claimed_at=None
        )
        _audit_send(mailing, AuditAction.MAILING_PAUSED, actor)
    return mailing


def do_resume_send(mailing: Mailing, *, actor: str = "staff") -> Mailing:
    with transaction.atomic():
        mailing = _locked(mailing)
        if not mailing.can_resume():
            raise SendError(_("Only a paused mailing can be resumed."))
        mailing.status = MailingStatus.SENDING
        mailing.save(update_fields=["status", "updated_at"])
        _audit_send(mailing, AuditAction.MAILING_RESUMED, actor)
        mailing_id = mailing.pk
        transaction.on_commit(lambda: _after_start(mailing_id))
    return mailing


def do_cancel_send(mailing: Mailing, *, actor: str = "staff") -> Mailing:
    """No more messages go out; those not yet handed to the server become cancelled."""
    with transaction.atomic():
        mailing = _locked(mailing)
        if not mailing.can_cancel():
            raise SendError(_("Only a scheduled, sending or paused mailing can be cancelled."))
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


# --- A/B subjects ---------------------------------------------------------------------


def is_waiting_for_ab_winner(mailing: Mailing) -> bool:
    return bool(mailing.subject_b) and not mailing.ab_winner


def samples_are_out(mailing_id: int) -> bool:
    return not MailingRecipient.objects.filter(
        mailing_id=mailing_id,
        variant__in=("A", "B"),
        state__in=PENDING_STATES,
    ).exists()


def do_set_ab_decision_time(mailing_id: int) -> datetime | None:
    """Once both samples are out, fix when the winner is chosen. Returns it, if set now."""
    decide_at = None
    with transaction.atomic():
        mailing = Mailing.objects.select_for_update().get(pk=mailing_id)
        if (
            mailing.status == MailingStatus.SENDING
            and is_waiting_for_ab_winner(mailing)
            and mailing.ab_decide_at is None
            and samples_are_out(mailing_id)
        ):
            decide_at = timezone.now() + timedelta(minutes=mailing.ab_wait_minutes)
            mailing.ab_decide_at = decide_at
            mailing.save(update_fields=["ab_decide_at", "updated_at"])
    return decide_at


def _unique_clicks(mailing: Mailing, variant: str) -> int | None:
    """Unique clickers among a sample, or None when no app counts clicks (ab_clicks.py)."""
    people = MailingRecipient.objects.filter(mailing=mailing, variant=variant).values("person_id")
    return unique_clickers(mailing.pk, people)


def _unique_actions(mailing: Mailing, variant: str) -> int:
    from groundswell.petitions.models import Signature, SignatureStatus

    people = MailingRecipient.objects.filter(mailing=mailing, variant=variant).values("person_id")
    return (
        Signature.objects.filter(
            mailing_id=mailing.pk, status=SignatureStatus.VALID, person_id__in=people
        )
        .values("person_id")
        .distinct()
        .count()
    )


def ab_scores(mailing: Mailing) -> dict[str, dict[str, float]]:
    """Per variant: sample size, the chosen metric's unique count, and its rate."""
    scores: dict[str, dict[str, float]] = {}
    for variant in ("A", "B"):
        size = MailingRecipient.objects.filter(mailing=mailing, variant=variant).count()
        count: int | None = None
        if mailing.ab_metric == AbMetric.CLICKS:
            count = _unique_clicks(mailing, variant)
        if count is None:
            count = _unique_actions(mailing, variant)
        scores[variant] = {"size": size, "count": count, "rate": count / size if size else 0.0}
    return scores


def do_choose_ab_winner(mailing: Mailing, winner: str | None = None) -> Mailing:
    """Pick the better subject (ties go to A) and release the held-back recipients with it."""
    with transaction.atomic():
        mailing = _locked(mailing)
        if not is_waiting_for_ab_winner(mailing):
            raise SendError(_("This mailing is not waiting for an A/B winner."))
        if winner is None:
            scores = ab_scores(mailing)
            winner = "B" if scores["B"]["rate"] > scores["A"]["rate"] else "A"
        if winner not in ("A", "B"):
            raise SendError(_("The winner is A or B."))
        mailing.ab_winner = winner
        mailing.ab_decide_at = mailing.ab_decide_at or timezone.now()
        mailing.save(update_fields=["ab_winner", "ab_decide_at", "updated_at"])
        MailingRecipient.objects.filter(
            Q(state=RecipientState.QUEUED) | Q(state=RecipientState.CANCELLED),
            mailing=mailing,
            variant="",
        ).update(variant=winner)
        logger.info("Mailing %s: subject %s won the A/B test", mailing.pk, winner)
        if mailing.status == MailingStatus.SENDING:
            mailing_id = mailing.pk
            transaction.on_commit(lambda: _after_start(mailing_id))
    return mailing


# === Compose (the compose pages' actions go below this line) ==============================


# --- Compose: create, edit, test-send ---------------------------------------------------

COMPOSE_M2M = ("include_lists", "exclude_lists", "exclude_signers_of")
MAX_TEST_ADDRESSES = 10


class ComposeError(ValueError):
    """A compose action that cannot be done, with a message staff can act on."""


def _fill_sender(mailing: Mailing) -> None:
    org = mailing.organisation
    mailing.from_name = mailing.from_name or org.sender_name or org.name
    mailing.from_email = mailing.from_email or org.sender_email


def _set_compose_fields(mailing: Mailing, fields: dict[str, Any]) -> dict[str, Any]:
    many = {name: fields.pop(name) for name in COMPOSE_M2M if name in fields}
    for name, value in fields.items():
        setattr(mailing, name, value)
    _fill_sender(mailing)
    return many


def do_create_mailing(*, by: Any = None, **fields: Any) -> Mailing:
    """A new draft. `fields` are Mailing fields; lists and petitions may be given as sets."""
    with transaction.atomic():
        mailing = Mailing(status=MailingStatus.DRAFT)
        many = _set_compose_fields(mailing, dict(fields))
        if by is not None and getattr(by, "is_authenticated", False):
            mailing.created_by = by
        mailing.save()
        for name, value in many.items():
            getattr(mailing, name).set(value)
        logger.info("Mailing %s drafted by %s", mailing.pk, getattr(by, "username", "system"))
    return mailing


def do_update_mailing(mailing: Mailing, *, by: Any = None, **fields: Any) -> Mailing:
    """Change a draft. Once scheduled or sending, what readers get is fixed."""
    with transaction.atomic():
        mailing = _locked(mailing)
        if mailing.status != MailingStatus.DRAFT:
            raise ComposeError(
                _("Only a draft can be changed; this mailing is %(status)s.")
                % {"status": mailing.get_status_display()}
            )
        many = _set_compose_fields(mailing, dict(fields))
        mailing.save()
        for name, value in many.items():
            getattr(mailing, name).set(value)
        logger.info("Mailing %s changed by %s", mailing.pk, getattr(by, "username", "system"))
    return mailing


def do_send_test(
    mailing: Mailing, addresses: list[str], *, person: Any = None, by: Any = None
) -> int:
    """Send a [TEST] copy to each staff address through Django's mail backend.

    With a person, the copy carries that member's real links (as their own copy
    would); without one, neutral values and no member links. Sent after commit,
    so the tracked links it points at exist when it arrives.
    """
    from django.core.mail import get_connection

    from groundswell.lib.mime import raw_email_message

    from .rendering import prepare_mailing

    if not addresses:
        raise ComposeError(_("Give at least one address to send the test to."))
    if len(addresses) > MAX_TEST_ADDRESSES:
        raise ComposeError(
            _("A test goes to at most %(count)d addresses.") % {"count": MAX_TEST_ADDRESSES}
        )
    prefix = _("[TEST]") + " "
    with transaction.atomic():
        prepared = prepare_mailing(mailing)
        messages = []
        for address in addresses:
            if person is not None:
                copy = MailingRecipient(mailing=mailing, person=person, email=address, variant="A")
                data = prepared.message_bytes(
                    copy, message_id=prepared.new_message_id("test"), subject_prefix=prefix
                )
            else:
                data = prepared.neutral_message_bytes(address, subject_prefix=prefix)
            messages.append(
                raw_email_message(
                    data,
                    mailing.from_email,
                    [address],
                    prefix + prepared.subject_for("A", person, address),
                )
            )
        logger.info(
            "Test of mailing %s sent to %d addresses by %s",
            mailing.pk,
            len(messages),
            getattr(by, "username", "system"),
        )
        transaction.on_commit(lambda: get_connection().send_messages(messages))
    return len(messages)


# === Unknown recipients: staff decide (the unknown-recipients page's actions) ============
# A recipient is *unknown* when its worker died, or its connection broke, while handing
# the message to the mail server: it may or may not have arrived. Nothing resends it on
# its own (a duplicate is worse than asking); staff decide, one by one or all at once,
# and each decision is a row in the audit log (who, when, which copy).

DECIDED_SENT = AuditAction.MAILING_UNKNOWN_ASSUMED_SENT
DECIDED_AGAIN = AuditAction.MAILING_UNKNOWN_SENT_AGAIN


def _decider(by: Any) -> str:
    return getattr(by, "username", "") or "system"


def _undecided(
    mailing: Mailing, recipient_ids: list[int] | None, expected: int | None
) -> list[MailingRecipient]:
    """The unknown recipients staff chose, locked; refused if the page they saw is out of date."""
    unknown = MailingRecipient.objects.select_for_update().filter(
        mailing=mailing, state=RecipientState.UNKNOWN
    )
    if recipient_ids is not None:
        unknown = unknown.filter(pk__in=recipient_ids)
    chosen = list(unknown.order_by("pk"))
    if recipient_ids is not None and len(chosen) != len(set(recipient_ids)):
        raise SendError(_("That recipient is no longer unknown: someone has decided already."))
    if expected is not None and len(chosen) != expected:
        raise SendError(
            _("The unknown recipients changed since the page was loaded; look at the list again.")
        )
    if not chosen:
        raise SendError(_("No recipient of this mailing is unknown."))
    return chosen


def _record_decisions(
    mailing: Mailing, recipients: list[MailingRecipient], action: AuditAction, actor: str
) -> None:
    from django.core.exceptions import ValidationError

    from groundswell.lib.addresses import normalise_email
    from groundswell.lib.tokens import email_hash
    from groundswell.members.models import AuditEntry

    def subject(address: str) -> str:
        try:
            return email_hash(normalise_email(address))
        except ValidationError:  # kept as given when it was frozen; hash it as it is
            return email_hash(address.strip().lower())

    AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                action=action,
                actor=actor,
                person_id=recipient.person_id,
                subject_hash=subject(recipient.email),
                details={
                    "mailing": mailing.pk,
                    "recipient": recipient.pk,
                    "handed_over_at": (
                        recipient.claimed_at.isoformat() if recipient.claimed_at else None
                    ),
                    "worker": recipient.claimed_by,
                    "what_we_knew": recipient.smtp_response,
                },
            )
            for recipient in recipients
        ]
    )


def do_mark_unknown_sent(
    mailing: Mailing,
    recipient_ids: list[int] | None = None,
    *,
    expected: int | None = None,
    by: Any = None,
) -> int:
    """Staff assume these copies arrived: they count as sent, at the time of hand-over.

    `recipient_ids` None means every unknown recipient of the mailing; `expected` is how
    many staff saw, so a list that grew meanwhile is not decided unseen.
    """
    from django.db.models import F, Value
    from django.db.models.functions import Coalesce

    actor = _decider(by)
    with transaction.atomic():
        mailing = _locked(mailing)
        chosen = _undecided(mailing, recipient_ids, expected)
        now = timezone.now()
        note = f"no answer recorded; assumed sent, decided by {actor} at {now:%Y-%m-%d %H:%M} UTC"
        MailingRecipient.objects.filter(
            pk__in=[recipient.pk for recipient in chosen], state=RecipientState.UNKNOWN
        ).update(
            state=RecipientState.SENT,
            sent_at=Coalesce(F("claimed_at"), Value(now)),
            smtp_response=note[:500],
        )
        _record_decisions(mailing, chosen, DECIDED_SENT, actor)
        logger.info(
            "Mailing %s: %s marked %d unknown recipients as sent", mailing.pk, actor, len(chosen)
        )
    return len(chosen)


def do_send_unknown_again(
    mailing: Mailing,
    recipient_ids: list[int] | None = None,
    *,
    expected: int | None = None,
    by: Any = None,
) -> int:
    """Staff accept a possible duplicate: these copies go back to the queue and out again.

    A mailing already sent is sending again until they are out; a paused one sends them
    when resumed; a cancelled one sends nothing more, so it refuses.
    """
    actor = _decider(by)
    with transaction.atomic():
        mailing = _locked(mailing)
        if mailing.status == MailingStatus.CANCELLED:
            raise SendError(
                _("This send was cancelled, so nothing more goes out; mark them as sent instead.")
            )
        chosen = _undecided(mailing, recipient_ids, expected)
        now = timezone.now()
        MailingRecipient.objects.filter(
            pk__in=[recipient.pk for recipient in chosen], state=RecipientState.UNKNOWN
        ).update(
            state=RecipientState.QUEUED,
            claimed_by="",
            claimed_at=None,
            next_attempt_at=None,
            smtp_response=f"queued again by {actor} at {now:%Y-%m-%d %H:%M} UTC"[:500],
        )
        if mailing.status == MailingStatus.SENT:
            mailing.status = MailingStatus.SENDING
            mailing.finished_at = None
            mailing.save(update_fields=["status", "finished_at", "updated_at"])
        _record_decisions(mailing, chosen, DECIDED_AGAIN, actor)
        logger.info(
            "Mailing %s: %s queued %d unknown recipients again", mailing.pk, actor, len(chosen)
        )
        if mailing.status == MailingStatus.SENDING:
            mailing_id = mailing.pk
            transaction.on_commit(lambda: _after_start(mailing_id))
    return len(chosen)


# === Unsubscribes from a mailing's link =================================================


def mark_recipient_unsubscribed(sender: Any, *, person: Person, mailing_id: int, **_: Any) -> None:
    """Receiver of members' person_unsubscribed (connected in apps.py), inside the
    unsubscribe's transaction: mark the copy of the mailing the link came from.

    Only the first unsubscribe counts: unsubscribing twice from the same email keeps the
    first time. A link not from a mailing (mailing id 0) changes nothing.
    """
    if not mailing_id:
        return
    MailingRecipient.objects.filter(
        mailing_id=mailing_id, person=person, unsubscribed_at__isnull=True
    ).update(unsubscribed_at=timezone.now())
