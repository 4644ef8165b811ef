"""The cast for petition tests.

Open Press and Open Press Action Fund run the petition. Alice is their organiser,
Bob a member who has signed before, Charlie a stranger who finds the page.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from groundswell.orgs.models import MailingList, Organisation
from groundswell.petitions.counter import clear_process_cache
from groundswell.petitions.models import Petition, PetitionSponsor
from groundswell.petitions.pages import clear_page_cache

BACKGROUND = """\
The company holds a contract worth about $19.4 million with the agency[^1].

More than 100 of its own employees asked it to stop.

[^1]: A news report on the contract, June 2018.
"""


@pytest.fixture(autouse=True)
def fresh_process_caches() -> Iterator[None]:
    clear_process_cache()
    clear_page_cache()
    yield
    clear_process_cache()
    clear_page_cache()


@pytest.fixture
def exact_counts(settings: Any) -> None:
    """Counts refreshed on every read, so a test sees each signature at once."""
    settings.COUNT_REFRESH_SECONDS = 0
    settings.COUNT_CACHE_SECONDS = 0


def make_org(name: str, slug: str) -> Organisation:
    org = Organisation.objects.create(
        name=name,
        slug=slug,
        website=f"https://{slug}.example.org/",
        postal_address="1 Printing House Yard, Example Town",
        privacy_policy_url=f"https://{slug}.example.org/privacy",
        sender_name=name,
        sender_email=f"hello@{slug}.example.org",
    )
    MailingList.objects.create(
        organisation=org, name="Supporters", slug="supporters", is_default=True
    )
    return org


def make_petition(
    slug: str = "cancel-the-contract",
    *,
    sponsors: list[Organisation],
    status: str = "open",
    **fields: Any,
) -> Petition:
    petition = Petition.objects.create(
        slug=slug,
        title=fields.pop("title", "Cancel the contract"),
        target=fields.pop("target", "the leaders of Example Corp"),
        statement=fields.pop("statement", "End every contract with the agency."),
        background=fields.pop("background", BACKGROUND),
        status=status,
        **fields,
    )
    for position, org in enumerate(sponsors):
        PetitionSponsor.objects.create(petition=petition, organisation=org, position=position)
    return petition


@pytest.fixture
def open_press(db: None) -> Organisation:
    return make_org("Open Press", "open-press")


@pytest.fixture
def action_fund(db: None) -> Organisation:
    return make_org("Open Press Action Fund", "open-press-fund")


@pytest.fixture
def petition(open_press: Organisation, action_fund: Organisation) -> Petition:
    return make_petition(sponsors=[open_press, action_fund])


def sign_data(petition: Petition, **overrides: Any) -> dict[str, str]:
    data = {
        "first_name": "Charlie",
        "last_name": "Stranger",
        "email": "charlie@example.org",
        "postal_code": "AB1 2CD",
        "country": "GB",
        "comment": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}
