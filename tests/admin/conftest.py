"""The cast for admin tests: Alice the organiser is staff; Bob and Charlie are people."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from groundswell.members.actions import PersonDetails, do_find_or_create_person, do_subscribe
from groundswell.members.models import Person
from groundswell.orgs.models import MailingList, Organisation
from groundswell.petitions.models import Petition, PetitionSponsor, Signature
from tests.orgs import factories

WORDING = "Yes, Friends of the Earthworm may email me about this campaign."


def make_org(slug: str = "earthworm") -> tuple[Organisation, MailingList]:
    """An organisation with its default list (the builders of tests/orgs/factories.py)."""
    org = factories.make_org(slug)
    return org, factories.make_list(org, is_default=True)


def make_petition(org: Organisation, slug: str = "save-the-worms") -> Petition:
    petition = Petition.objects.create(
        slug=slug,
        title=f"Petition {slug}",
        target="the leaders of Spade Corp",
        statement="Stop digging.",
        background="Worms matter[^1].\n\n[^1]: A study.",
        status="open",
    )
    PetitionSponsor.objects.create(petition=petition, organisation=org, position=0)
    return petition


def make_person(email: str, first: str = "", last: str = "") -> Person:
    person, _ = do_find_or_create_person(
        PersonDetails(email=email, first_name=first, last_name=last, country="GB"),
        source="petition:test",
    )
    return person


def make_signer(n: int, petition: Petition, mailing_list: MailingList) -> Person:
    person = make_person(f"signer{n}@example.org", f"Signer{n}", "Test")
    Signature.objects.create(petition=petition, person=person, source="email")
    do_subscribe(person, mailing_list, source="petition:test", wording=WORDING)
    return person


@pytest.fixture
def alice(db: Any) -> User:
    return User.objects.create_superuser("alice", "alice@example.org", "Worms-are-great-42")


@pytest.fixture
def alice_client(alice: User) -> Client:
    client = Client()
    client.force_login(alice)
    return client


@pytest.fixture
def campaign(db: Any) -> dict[str, Any]:
    """One organisation with a default list, an open petition, Bob signed and subscribed."""
    org, mailing_list = make_org()
    petition = make_petition(org)
    bob = make_person("Bob@Example.org", "Bob", "Member")
    signature = Signature.objects.create(
        petition=petition, person=bob, source="facebook", comment="Dig less!"
    )
    subscription = do_subscribe(
        bob, mailing_list, source="petition:save-the-worms", wording=WORDING
    )
    charlie = make_person("charlie@example.net", "Charlie", "Stranger")
    return {
        "org": org,
        "list": mailing_list,
        "petition": petition,
        "bob": bob,
        "charlie": charlie,
        "signature": signature,
        "subscription": subscription,
    }
