"""The cast for compose and rendering tests.

Fieldstone Action sends the mailing; Alice is its organiser (staff), Bob a member
on its list, Zoë a member whose name needs more than ASCII.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from groundswell.mailings.models import Mailing
from groundswell.members.actions import PersonDetails, do_find_or_create_person, do_subscribe
from groundswell.members.models import Person
from groundswell.orgs.models import MailingList, Organisation
from groundswell.petitions.models import Petition, PetitionSponsor

BODY = """\
Dear {{ first_name|default:"friend" }},

Microsoft holds more than $19 million in contracts with ICE.[^1]

[Add your name]({{ petition_url }})

Read [the workers' letter](https://news.example.net/letter?id=7&from=mail) and
[our report](/sign/cancel-the-contract/).

[Sign the petition]({{ petition_url }})

[^1]: The Hill, June 2018.
"""


def make_person(email: str, first: str = "", last: str = "") -> Person:
    person, _ = do_find_or_create_person(
        PersonDetails(email=email, first_name=first, last_name=last, country="US"),
        source="petition:test",
    )
    return person


@pytest.fixture
def fieldstone(db: Any) -> Organisation:
    return Organisation.objects.create(
        name="Fieldstone Action",
        slug="fieldstone-action",
        website="https://fieldstone.example",
        postal_address="Fieldstone Action\nPO Box 20417\nChicago, IL 60620\nUSA",
        privacy_policy_url="https://fieldstone.example/privacy",
        sender_name="Marisol Whitcombe",
        sender_email="updates@fieldstone.example",
    )


@pytest.fixture
def members_list(fieldstone: Organisation) -> MailingList:
    return MailingList.objects.create(
        organisation=fieldstone, name="Members", slug="members", is_default=True
    )


@pytest.fixture
def petition(fieldstone: Organisation) -> Petition:
    petition = Petition.objects.create(
        slug="cancel-the-contract",
        title="Cancel the contract",
        target="Satya Nadella",
        statement="Cancel it.",
        status="open",
        share_text="Tell Microsoft to cancel the contract:",
    )
    PetitionSponsor.objects.create(petition=petition, organisation=fieldstone, position=0)
    return petition


@pytest.fixture
def bob(members_list: MailingList) -> Person:
    person = make_person("bob@example.org", "Bob", "Member")
    do_subscribe(person, members_list, source="petition:test", wording="Yes, email me.")
    return person


@pytest.fixture
def zoe(members_list: MailingList) -> Person:
    person = make_person("zoe@example.org", "Zoë <b>", "Ångström")
    do_subscribe(person, members_list, source="petition:test", wording="Yes, email me.")
    return person


@pytest.fixture
def mailing(fieldstone: Organisation, petition: Petition, members_list: MailingList) -> Mailing:
    mailing = Mailing.objects.create(
        organisation=fieldstone,
        from_name="Marisol Whitcombe",
        from_email="updates@fieldstone.example",
        reply_to="marisol@fieldstone.example",
        subject="Tell Microsoft: stop enabling ICE",
        preheader="Over 300 of its own workers already have.",
        body=BODY,
        petition=petition,
        signoff_name="Marisol Whitcombe",
        signoff_title="Campaign manager",
        signoff_organisation="Fieldstone Action",
    )
    mailing.include_lists.add(members_list)
    return mailing


@pytest.fixture
def alice(db: Any) -> User:
    return User.objects.create_user(
        "alice", "alice@fieldstone.example", "Worms-are-great-42", is_staff=True
    )


@pytest.fixture
def alice_client(alice: User) -> Client:
    client = Client()
    client.force_login(alice)
    return client
