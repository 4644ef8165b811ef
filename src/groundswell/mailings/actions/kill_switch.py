"""The sending kill switch: pause every mailing that is sending, and later resume
exactly those (not one that staff had paused on purpose)."""

from __future__ import annotations

from collections.abc import Collection

from groundswell.mailings.actions.send import SendError, do_pause_send, do_resume_send
from groundswell.mailings.models import Mailing, MailingStatus
from groundswell.members.models import AuditAction, AuditEntry


def _of(organisations: Collection[int] | None) -> dict[str, object]:
    return {} if organisations is None else {"organisation_id__in": organisations}


def do_pause_all_sending(
    *, actor: str, organisations: Collection[int] | None = None
) -> list[Mailing]:
    """Pause every mailing that is sending now (of these organisations, or all); returns
    them. Each pause is its own audit entry, marked as the kill switch's."""
    paused = []
    sending = Mailing.objects.filter(status=MailingStatus.SENDING, **_of(organisations))
    for mailing in sending.order_by("pk"):
        try:
            paused.append(do_pause_send(mailing, actor=actor, pause_all=True))
        except SendError:
            continue  # finished or paused a moment ago
    return paused


def paused_by_kill_switch(organisations: Collection[int] | None = None) -> list[Mailing]:
    """Paused mailings whose latest pause was the kill switch's."""
    found = []
    paused = Mailing.objects.filter(status=MailingStatus.PAUSED, **_of(organisations))
    for mailing in paused.order_by("pk"):
        latest = (
            AuditEntry.objects.filter(
                action=AuditAction.MAILING_PAUSED, details__mailing=mailing.pk
            )
            .order_by("-created_at", "-pk")
            .values_list("details", flat=True)
            .first()
        )
        if latest and latest.get("pause_all"):
            found.append(mailing)
    return found


def do_resume_all_sending(
    *, actor: str, organisations: Collection[int] | None = None
) -> list[Mailing]:
    """Resume the mailings the kill switch paused (of these organisations, or all);
    returns them."""
    resumed = []
    for mailing in paused_by_kill_switch(organisations):
        try:
            resumed.append(do_resume_send(mailing, actor=actor))
        except SendError:
            continue
    return resumed


def scheduled_mailings() -> list[Mailing]:
    """Mailings that will start on their own later: the switch does not stop them."""
    return list(Mailing.objects.filter(status=MailingStatus.SCHEDULED).order_by("pk"))
