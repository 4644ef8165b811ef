"""The cast for targeting and sending tests.

Riverbank Action sends; its lists are Supporters and Donors. People are made in
bulk (thousands for the crash test), straight into the tables: these tests are about
who gets a mailing and how it is sent, not how people joined.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest
from django.db import connection

from groundswell.mailings.models import Mailing
from groundswell.members.models import Person, Subscription, SubscriptionStatus
from groundswell.orgs.models import MailingList, Organisation
from groundswell.petitions.models import Petition, PetitionSponsor

BODY = """\
Dear {{ first_name|default:"friend" }},

The river needs you. [Sign the petition]({{ petition_url }}).
"""


def make_org() -> Organisation:
    return Organisation.objects.create(
        name="Riverbank Action",
        slug="riverbank",
        website="https://riverbank.example",
        postal_address="2 Weir Street, Millbrook",
        privacy_policy_url="https://riverbank.example/privacy",
        sender_name="Riverbank Action",
        sender_email="hello@riverbank.example",
    )


@pytest.fixture
def org(db: Any) -> Organisation:
    """Riverbank Action (a fixture: conftest.py offers it to every mailings test)."""
    return make_org()


@pytest.fixture
def mail_in_memory(settings: Any) -> None:
    """Messages go to Django's in-memory outbox (mail.outbox), not to an SMTP server."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def supporters(org: Organisation) -> MailingList:
    """Riverbank's default list, empty."""
    return make_list(org, "supporters", is_default=True)


def make_list(org: Organisation, slug: str, *, is_default: bool = False) -> MailingList:
    return MailingList.objects.create(
        organisation=org, name=slug.title(), slug=slug, is_default=is_default
    )


def make_petition(slug: str = "clean-river") -> Petition:
    petition = Petition.objects.create(
        slug=slug,
        title=slug.replace("-", " ").title(),
        target="the water company",
        statement="Stop the sewage.",
        status="open",
    )
    org = Organisation.objects.filter(slug="riverbank").first()
    if org is not None:
        PetitionSponsor.objects.create(petition=petition, organisation=org, position=0)
    return petition


def make_people(
    count: int, *, prefix: str = "member", start: int = 0, **fields: str
) -> list[Person]:
    people = [
        Person(
            email=f"{prefix}{i}@example.org",
            email_normalised=f"{prefix}{i}@example.org",
            first_name=f"Member{i}",
            **fields,
        )
        for i in range(start, start + count)
    ]
    created = Person.objects.bulk_create(people, batch_size=2000)
    if connection.vendor == "sqlite" and any(p.pk is None for p in created):
        created = list(Person.objects.filter(email_normalised__startswith=prefix).order_by("pk"))
    return created


def subscribe(
    people: Iterable[Person],
    mailing_list: MailingList,
    status: str = SubscriptionStatus.SUBSCRIBED,
) -> None:
    Subscription.objects.bulk_create(
        [Subscription(person=p, mailing_list=mailing_list, status=status) for p in people],
        batch_size=2000,
    )


def make_mailing(org: Organisation, *lists: MailingList, **fields: object) -> Mailing:
    if "petition" not in fields:
        fields["petition"] = Petition.objects.filter(slug="clean-river").first() or make_petition()
    mailing = Mailing.objects.create(
        organisation=org,
        from_name="Riverbank Action",
        from_email="hello@riverbank.example",
        subject=str(fields.pop("subject", "The river needs you")),
        body=str(fields.pop("body", BODY)),
        **fields,  # type: ignore[arg-type]
    )
    mailing.include_lists.set(lists)
    return mailing
