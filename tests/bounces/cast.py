"""Bounce tests: Friends of the Earthworm mail Bob, Carol and others, whom the reports in
samples/ are about (built with the shared cast's builders, tests/cast.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.utils import timezone

from groundswell.mailings.models import Mailing, MailingRecipient, RecipientState
from groundswell.members.models import Person
from groundswell.orgs.models import MailingList, Organisation
from tests.cast import default_list, make_list, make_org, make_person, subscribe

SAMPLES = Path(__file__).resolve().parent / "samples"
WORDING = "Yes, Friends of the Earthworm may email me."


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


@dataclass
class Campaign:
    org: Organisation
    supporters: MailingList
    volunteers: MailingList
    mailing: Mailing


def make_campaign() -> Campaign:
    org = make_org("Friends of the Earthworm", "earthworm")
    supporters = default_list(org)
    volunteers = make_list(org, "volunteers")
    mailing = Mailing.objects.create(
        organisation=org,
        from_name="Alice at Friends of the Earthworm",
        from_email="alice@earthworm.example.org",
        subject="The worms need you this week",
        body="Hi {{ first_name }}",
        status="sent",
    )
    return Campaign(org, supporters, volunteers, mailing)


def make_member(campaign: Campaign, email: str, *lists: MailingList) -> Person:
    person = make_person(email, email.split(".")[0].title())
    for mailing_list in lists or (campaign.supporters,):
        subscribe(person, mailing_list, source="petition:save-the-worms", wording=WORDING)
    return person


def send_copy(campaign: Campaign, person: Person, message_id: str) -> MailingRecipient:
    """A copy of the mailing as the sender leaves it once handed to the mail server."""
    return MailingRecipient.objects.create(
        mailing=campaign.mailing,
        person=person,
        email=person.email,
        state=RecipientState.SENT,
        sent_at=timezone.now(),
        message_id=message_id,
    )


# The people the reports in samples/ are about: their address and our copy's Message-ID.
BOB = ("bob.marsh@wetlands.example.com", "<12.3401.Qm8vT2xLrA@act.example.org>")
FRANK = ("frank.moss@mailbox.example.com", "<12.3404.Yt6cVb0Wqe@act.example.org>")


def mail_member(
    campaign: Campaign, who: tuple[str, str], *lists: MailingList
) -> tuple[Person, MailingRecipient]:
    """A member on `lists` (the supporters by default) sent a copy with the given Message-ID."""
    email, message_id = who
    person = make_member(campaign, email, *lists)
    return person, send_copy(campaign, person, message_id)
