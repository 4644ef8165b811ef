"""A person's copies of mailings in a copy of their data and on erasure
(registered with members/privacy.py in apps.py)."""

from __future__ import annotations

from groundswell.mailings.models import MailingRecipient
from groundswell.members.models import Person


def export_person(person: Person) -> dict[str, list[dict[str, object]]]:
    return {
        "mailings_received": [
            {
                "subject": r.mailing.subject,
                "from": r.mailing.organisation.name,
                "state": r.state,
                "sent_at": r.sent_at.isoformat() if r.sent_at else "",
            }
            for r in MailingRecipient.objects.filter(person=person)
            .select_related("mailing__organisation")
            .order_by("id")
        ]
    }


def forget_person(person: Person) -> dict[str, int]:
    """Copies stay for the mailings' totals, without the address; the mail server's
    answer goes too, as it often quotes the address."""
    MailingRecipient.objects.filter(person=person).update(person=None, email="", smtp_response="")
    return {}
