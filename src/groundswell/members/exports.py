"""The people on one list, as rows for a file, read in chunks so memory stays flat."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from groundswell.lib.downloads import export_rows
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


def list_people_rows(mailing_list: MailingList) -> Iterator[list[Any]]:
    """The header, then one row per person subscribed to the list now."""
    subscribed = Subscription.objects.filter(
        mailing_list=mailing_list, status=SubscriptionStatus.SUBSCRIBED
    )
    return export_rows(subscribed.order_by("pk"), COLUMNS)
