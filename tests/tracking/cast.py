"""A sent mailing, for tracking and report tests, built on the shared cast (tests/cast.py).

Open Press sent a mailing about its petition, with three tracked links, to Bob and
Dora, members. Charlie is a stranger with no token.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from groundswell.lib.tokens import make_member_token
from groundswell.mailings.models import (
    LinkKind,
    Mailing,
    MailingRecipient,
    RecipientState,
    TrackedLink,
)
from groundswell.members.models import Person
from groundswell.petitions.models import Petition
from tests.cast import make_org, make_person, make_petition


@dataclass
class Cast:
    mailing: Mailing
    petition: Petition
    bob: Person
    dora: Person
    links: list[TrackedLink]
    sent_at: datetime

    def token(self, person: Person) -> str:
        return make_member_token(person.pk, self.mailing.pk)


def make_cast(sent_ago: timedelta = timedelta(hours=1)) -> Cast:
    org = make_org("Open Press", "open-press")
    petition = make_petition(sponsors=[org])
    sent_at = timezone.now() - sent_ago
    mailing = Mailing.objects.create(
        organisation=org,
        from_name="Open Press",
        from_email="hello@open-press.example.org",
        subject="The contract ends on Friday unless we act",
        body="Hello {{ first_name }}",
        petition=petition,
        status="sent",
        started_at=sent_at,
        finished_at=sent_at + timedelta(minutes=2),
    )
    links = [
        TrackedLink.objects.create(
            mailing=mailing,
            number=1,
            kind=LinkKind.PETITION,
            url=f"http://testserver/sign/{petition.slug}/",
            petition=petition,
            label="Sign the petition",
        ),
        TrackedLink.objects.create(
            mailing=mailing,
            number=2,
            kind=LinkKind.EXTERNAL,
            url="https://news.example.com/2018/06/contract",
            label="the news report",
        ),
        TrackedLink.objects.create(
            mailing=mailing,
            number=3,
            kind=LinkKind.SHARE,
            url="https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Fexample.org%2F",
            label="Share on Facebook",
        ),
    ]
    bob = make_person("bob@example.org", "Bob", "Member", country="GB")
    dora = make_person("dora@example.org", "Dora", "Member", country="GB")
    for person in (bob, dora):
        MailingRecipient.objects.create(
            mailing=mailing,
            person=person,
            email=person.email,
            state=RecipientState.SENT,
            sent_at=sent_at,
        )
    return Cast(mailing, petition, bob, dora, links, sent_at)
