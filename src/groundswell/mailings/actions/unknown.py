"""Unknown recipients: staff decide what happened to a copy.

A recipient is *unknown* when its worker died, or its connection broke, while handing
the message to the mail server: it may or may not have arrived. Nothing resends it on
its own (a duplicate is worse than asking); staff decide, one by one or all at once,
and each decision is a row in the audit log (who, when, which copy).
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from groundswell.members.models import AuditAction

from ..models import Mailing, MailingRecipient, MailingStatus, RecipientState
from .send import SendError, after_start, locked

logger = logging.getLogger(__name__)


DECIDED_SENT = AuditAction.MAILING_UNKNOWN_ASSUMED_SENT
DECIDED_AGAIN = AuditAction.MAILING_UNKNOWN_SENT_AGAIN
# The recipients a decision is about; None: every unknown recipient of the mailing.
Chosen = list[int] | None


def _decider(by: Any) -> str:
    return getattr(by, "username", "") or "system"


def _undecided(
    mailing: Mailing, recipient_ids: Chosen, expected: int | None
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


def _update_still_unknown(chosen: list[MailingRecipient], **fields: Any) -> None:
    """Write the decision to the chosen rows; the state check keeps it to the undecided."""
    MailingRecipient.objects.filter(
        pk__in=[recipient.pk for recipient in chosen], state=RecipientState.UNKNOWN
    ).update(**fields)


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
    mailing: Mailing, recipient_ids: Chosen = None, *, expected: int | None = None, by: Any = None
) -> int:
    """Staff assume these copies arrived: they count as sent, at the time of hand-over.

    `recipient_ids` None means every unknown recipient of the mailing; `expected` is how
    many staff saw, so a list that grew meanwhile is not decided unseen.
    """
    from django.db.models import F, Value
    from django.db.models.functions import Coalesce

    actor = _decider(by)
    with transaction.atomic():
        mailing = locked(mailing)
        chosen = _undecided(mailing, recipient_ids, expected)
        now = timezone.now()
        note = f"no answer recorded; assumed sent, decided by {actor} at {now:%Y-%m-%d %H:%M} UTC"
        _update_still_unknown(
            chosen,
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
    mailing: Mailing, recipient_ids: Chosen = None, *, expected: int | None = None, by: Any = None
) -> int:
    """Staff accept a possible duplicate: these copies go back to the queue and out again.

    A mailing already sent is sending again until they are out; a paused one sends them
    when resumed; a cancelled one sends nothing more, so it refuses.
    """
    actor = _decider(by)
    with transaction.atomic():
        mailing = locked(mailing)
        if mailing.status == MailingStatus.CANCELLED:
            raise SendError(
                _("This send was cancelled, so nothing more goes out; mark them as sent instead.")
            )
        chosen = _undecided(mailing, recipient_ids, expected)
        now = timezone.now()
        _update_still_unknown(
            chosen,
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
            transaction.on_commit(lambda: after_start(mailing_id))
    return len(chosen)
