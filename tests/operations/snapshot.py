"""What a restore must bring back, read the same way from any installation: run in
this process, or in a `groundswell shell` pointed at another database."""

from __future__ import annotations

from typing import Any

from groundswell.mailings.models import Mailing, MailingRecipient
from groundswell.members.models import ConsentEvent, Person
from groundswell.petitions.models import Signature


def summary() -> dict[str, list[Any]]:
    return {
        "people": sorted(
            [p.email, p.first_name, p.last_name, p.country] for p in Person.objects.all()
        ),
        "signatures": sorted(
            [s.petition.slug, s.person.email, s.created_at.isoformat()]
            for s in Signature.objects.select_related("petition", "person")
        ),
        "consent": sorted(
            [
                e.subscription.person.email,
                e.subscription.mailing_list.name,
                e.kind,
                e.source,
                e.wording,
                e.created_at.isoformat(),
            ]
            for e in ConsentEvent.objects.select_related(
                "subscription__person", "subscription__mailing_list"
            )
        ),
        "mailings": sorted(
            [m.subject, m.status, m.recipient_count, m.body] for m in Mailing.objects.all()
        ),
        "recipients": sorted(
            [r.mailing.subject, r.email, r.state]
            for r in MailingRecipient.objects.select_related("mailing")
        ),
    }


PRINT_SUMMARY = (
    "import json; from tests.operations.snapshot import summary; print(json.dumps(summary()))"
)
