"""Mailings tests, with the shared cast (tests/cast.py).

Composing and rendering: Fieldstone Action sends, with the names and addresses these
emails are checked for; Alice is its organiser (staff), Bob a member on its list, Zoë a
member whose name needs more than ASCII. Targeting and sending: the cast's Open Press
sends to its Supporters, people made in bulk (thousands for the crash test).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User

from groundswell.mailings.models import Mailing
from groundswell.members.models import Person
from groundswell.orgs.models import MailingList, Organisation
from groundswell.petitions.models import Petition
from tests import cast

BODY = """\
Dear {{ first_name|default:"friend" }},

Microsoft holds more than $19 million in contracts with ICE.[^1]

[Add your name]({{ petition_url }})

Read [the workers' letter](https://news.example.net/letter?id=7&from=mail) and
[our report](/sign/cancel-the-contract/).

[Sign the petition]({{ petition_url }})

[^1]: The Hill, June 2018.
"""


def make_member(email: str, first: str = "", last: str = "") -> Person:
    """A person as signing a petition records one (in the US, like Fieldstone's)."""
    return cast.make_person(email, first, last, country="US", source="petition:test")


@pytest.fixture
def fieldstone(db: Any) -> Organisation:
    return cast.make_org(
        "Fieldstone Action",
        "fieldstone-action",
        default_list=None,
        website="https://fieldstone.example",
        postal_address="Fieldstone Action\nPO Box 20417\nChicago, IL 60620\nUSA",
        privacy_policy_url="https://fieldstone.example/privacy",
        sender_name="Marisol Whitcombe",
        sender_email="updates@fieldstone.example",
    )


@pytest.fixture
def members_list(fieldstone: Organisation) -> MailingList:
    return cast.make_list(fieldstone, "members", is_default=True)


@pytest.fixture
def petition(fieldstone: Organisation) -> Petition:
    return cast.make_petition(
        target="Satya Nadella",
        statement="Cancel it.",
        background="",
        share_text="Tell Microsoft to cancel the contract:",
        sponsors=[fieldstone],
    )


@pytest.fixture
def bob(members_list: MailingList) -> Person:
    person = make_member("bob@example.org", "Bob", "Member")
    cast.subscribe(person, members_list, source="petition:test")
    return person


@pytest.fixture
def zoe(members_list: MailingList) -> Person:
    person = make_member("zoe@example.org", "Zoë <b>", "Ångström")
    cast.subscribe(person, members_list, source="petition:test")
    return person


@pytest.fixture
def mailing(fieldstone: Organisation, petition: Petition, members_list: MailingList) -> Mailing:
    return cast.make_mailing(
        fieldstone,
        members_list,
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


@pytest.fixture
def alice(db: Any) -> User:
    return cast.make_staff(email="alice@fieldstone.example", superuser=True)


@pytest.fixture
def org(db: Any) -> Organisation:
    """Open Press, the sender in targeting and sending tests."""
    return cast.make_org()


@pytest.fixture
def supporters(org: Organisation) -> MailingList:
    """Open Press's default list, empty."""
    return cast.default_list(org)


@pytest.fixture
def mail_in_memory(settings: Any) -> None:
    """Messages go to Django's in-memory outbox (mail.outbox), not to an SMTP server."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
