"""The people on one list, as rows for a file, read in chunks so memory stays flat."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from groundswell.members.models import Subscription, SubscriptionStatus
from groundswell.orgs.models import MailingList

COLUMNS: tuple[tuple[str, str], ...] = (
    ("email", "person__email"),
    ("first_name", "person__first_name"),
    ("last_name", "person__last_name"),
    ("address", "person__address"),
    ("postal_code", "person__postal_code"),
    ("country", "person__country"),
    ("subscribed_since", "created_at"),
    ("joined_from", "person__source"),
)
HEADER = [name for name, _ in COLUMNS]
CHUNK = 5000


def list_people_rows(mailing_list: MailingList) -> Iterator[list[Any]]:
    """The header, then one row per person subscribed to the list now."""
    yield HEADER
    subscribed = Subscription.objects.filter(
        mailing_list=mailing_list, status=SubscriptionStatus.SUBSCRIBED
    ).order_by("pk")
    for values in subscribed.values_list(*[f for _, f in COLUMNS]).iterator(chunk_size=CHUNK):
        yield [v.isoformat(timespec="seconds") if isinstance(v, datetime) else v for v in values]
