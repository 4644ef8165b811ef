"""A person's clicks and opens in a copy of their data and on erasure
(registered with members/privacy.py in apps.py)."""

from __future__ import annotations

from groundswell.members.models import Person
from groundswell.tracking.models import Click, Open


def export_person(person: Person) -> dict[str, list[dict[str, object]]]:
    return {
        "clicks": [
            {
                "mailing": c.mailing.subject,
                "link_number": c.link_number,
                "at": c.clicked_at.isoformat(),
                "ip_address": c.ip_address or "",
                "browser": c.user_agent,
            }
            for c in Click.objects.filter(person=person).select_related("mailing").order_by("id")
        ]
    }


def forget_person(person: Person) -> dict[str, int]:
    """Clicks and opens stay for the mailings' totals, without anything that points back."""
    Click.objects.filter(person=person).update(person=None, ip_address=None, user_agent="")
    Open.objects.filter(person=person).update(person=None, ip_address=None, user_agent="")
    return {}
