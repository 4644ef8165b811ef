"""What tracking hears from the apps below it."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver
from django.http import HttpRequest

from groundswell.petitions.signals import member_link_followed
from groundswell.tracking.recording import record_click


@receiver(member_link_followed, dispatch_uid="groundswell.tracking.petition_click")
def count_petition_click(
    sender: Any, *, request: HttpRequest, link_number: str, token: str | None, **kwargs: Any
) -> None:
    record_click(request, link_number, token, checked=kwargs.get("member"))
