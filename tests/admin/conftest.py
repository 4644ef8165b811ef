"""Admin tests: Alice the organiser is a superuser here; the campaign is Friends of the
Earthworm's (the cast's builders, tests/cast.py, with the names these pages are checked
for)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User

from groundswell.members.models import Person
from groundswell.orgs.models import MailingList
from groundswell.petitions.models import Petition, Signature
from tests import cast

WORDING = "Yes, Friends of the Earthworm may email me about this campaign."


def make_signer(n: int, petition: Petition, mailing_list: MailingList) -> Person:
    """Signer n: signed the petition and subscribed to the list."""
    person = cast.make_person(
        f"signer{n}@example.org", f"Signer{n}", "Test", country="GB", source="petition:test"
    )
    Signature.objects.create(petition=petition, person=person, source="email")
    cast.subscribe(person, mailing_list, source="petition:test", wording=WORDING)
    return person


@pytest.fixture
def alice(db: Any) -> User:
    return cast.make_staff(email="alice@example.org", superuser=True)


@pytest.fixture
def campaign(db: Any) -> dict[str, Any]:
    """One organisation with a default list, an open petition, Bob signed and subscribed."""
    org = cast.make_org(
        "Friends of the Earthworm", "earthworm", postal_address="1 Loam Lane, Compost Town"
    )
    mailing_list = cast.default_list(org)
    petition = cast.make_petition("save-the-worms", sponsors=[org], title="Petition save-the-worms")
    bob = cast.make_person("Bob@Example.org", "Bob", "Member", country="GB", source="petition:test")
    signature = Signature.objects.create(
        petition=petition, person=bob, source="facebook", comment="Dig less!"
    )
    subscription = cast.subscribe(
        bob, mailing_list, source="petition:save-the-worms", wording=WORDING
    )
    charlie = cast.make_person(
        "charlie@example.net", "Charlie", "Stranger", country="GB", source="petition:test"
    )
    return {
        "org": org,
        "list": mailing_list,
        "petition": petition,
        "bob": bob,
        "charlie": charlie,
        "signature": signature,
        "subscription": subscription,
    }
