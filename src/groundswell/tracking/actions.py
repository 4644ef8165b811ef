"""Retention of what clicks and opens say about the reader's connection.

The IP address and browser of a click help tell a mail scanner from a person
(machine.py) while a mailing's clicks come in; after TRACKING_DETAILS_RETENTION_DAYS
they serve no purpose we have, so the hourly retention task (groundswell/tasks.py)
blanks them. The click or open itself stays, for the mailing's totals.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Q

from groundswell.tracking.models import Click, Open

# Rows per transaction: the first run on a large table must not hold locks for long.
CHUNK = 5_000


def do_forget_tracking_details(*, older_than: datetime) -> int:
    """Blank the IP address and browser of clicks and opens before `older_than`; how
    many rows were changed."""
    changed = 0
    for model, when in ((Click, "clicked_at"), (Open, "opened_at")):
        kept = model.objects.filter(**{f"{when}__lt": older_than}).filter(
            Q(ip_address__isnull=False) | ~Q(user_agent="")
        )
        while True:
            with transaction.atomic():
                ids = list(kept.values_list("pk", flat=True)[:CHUNK])
                if not ids:
                    break
                changed += model.objects.filter(pk__in=ids).update(ip_address=None, user_agent="")
    return changed
