"""Provider webhooks (django-anymail's tracking signal) turned into bounce reports."""

from __future__ import annotations

from typing import Any

from anymail.signals import AnymailTrackingEvent, EventType, RejectReason, tracking
from django.dispatch import receiver

from groundswell.bounces.actions import do_record_report
from groundswell.bounces.models import BounceKind

# A provider refusing to send for these reasons means the address is no good;
# other refusals (blocked, timed out, spam filter) say nothing about the address.
HARD_REJECT_REASONS = {RejectReason.BOUNCED, RejectReason.INVALID, None}


def kind_of(event: AnymailTrackingEvent) -> BounceKind | None:
    if event.event_type == EventType.BOUNCED:
        return BounceKind.HARD
    if event.event_type == EventType.REJECTED:
        return BounceKind.HARD if event.reject_reason in HARD_REJECT_REASONS else BounceKind.SOFT
    if event.event_type == EventType.DEFERRED:
        return BounceKind.SOFT
    if event.event_type == EventType.COMPLAINED:
        return BounceKind.COMPLAINT
    if event.event_type == EventType.UNSUBSCRIBED:
        return BounceKind.UNSUBSCRIBE
    return None


@receiver(tracking, dispatch_uid="groundswell.bounces.tracking")
def handle_tracking_event(
    sender: Any, event: AnymailTrackingEvent, esp_name: str, **kwargs: Any
) -> None:
    kind = kind_of(event)
    if kind is None:
        return  # opens, clicks, deliveries: tracked by our own links, not here
    do_record_report(
        kind,
        source=f"{esp_name.lower()}:{event.event_type}",
        message_ids=[event.message_id] if event.message_id else [],
        address=event.recipient or "",
        status=str(event.reject_reason or ""),
        detail=(event.description or event.mta_response or "")[:500],
    )
