"""Screenshots of the petition page for docs/petition-page.md.

Not part of the test run (the name does not start with test_). Take them with:

    .venv/bin/pytest tests/petitions/shoot_screenshots.py -p no:cacheprovider

then look at every image in docs/screenshots/petition-*.png before committing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from groundswell.members.models import Person
from groundswell.petitions.models import Petition, Signature
from tests.cast import make_org, make_petition

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

STATEMENT = (
    "We call on Microsoft to end all of its contracts with U.S. Immigration and Customs "
    "Enforcement (ICE). The agency is responsible for grave human-rights abuses, among them "
    "taking children from their parents at the U.S.-Mexico border. Live up to the principles "
    "you publish, and stop selling ICE the tools it uses."
)

BACKGROUND = """\
Microsoft has held a contract with ICE worth about $19.4 million. What it sells is Azure,
its cloud platform, which the company itself described as "mission critical" to the
agency's operations.

Millions of us write our mail, documents and spreadsheets with Microsoft's products every
day, most of us without knowing that the same company powers an agency accused of abuse
in its detention centres[^1].

In June 2018 more than 100 Microsoft employees published an open letter asking their
employer to drop the contract. Their leaders have not listened yet. Thousands of customers
adding their names can change that.

[^1]: Reporting on abuse in immigration detention centres, The Nation, 27 June 2018.
"""

SIGNERS = [
    ("Amara", "Okafor", "GB"),
    ("Lucía", "Fernández", "ES"),
    ("Tom", "Whitfield", "US"),
    ("Priya", "Raman", "CA"),
    ("Jonas", "Becker", "DE"),
    ("Grace", "Liu", "US"),
]


@pytest.fixture
def campaign(db: None) -> Petition:
    press = make_org("Open Press", "open-press")
    fund = make_org("Open Press Action Fund", "open-press-fund")
    petition = make_petition(
        "microsoft-cancel-the-contract",
        sponsors=[press, fund],
        title="Microsoft: cancel your contracts with ICE",
        target="the leaders of Microsoft",
        statement=STATEMENT,
        background=BACKGROUND,
        goal=2500,
    )
    people = Person.objects.bulk_create(
        Person(
            email=f"supporter{i}@example.org",
            email_normalised=f"supporter{i}@example.org",
            first_name="Supporter",
            last_name=str(i),
            country="US",
        )
        for i in range(1841)
    )
    Signature.objects.bulk_create(Signature(petition=petition, person=p) for p in people)
    for first, last, country in SIGNERS:
        person = Person.objects.create(
            email=f"{first.lower()}@example.org",
            email_normalised=f"{first.lower()}@example.org",
            first_name=first,
            last_name=last,
            country=country,
        )
        Signature.objects.create(petition=petition, person=person, show_name=True)
    return petition


def shoot(page: Any, name: str) -> None:
    page.screenshot(path=str(OUT / f"petition-{name}.png"), full_page=True)


def fill(page: Any) -> None:
    page.get_by_label("First name", exact=True).fill("Charlie")
    page.get_by_label("Last name").fill("Stranger")
    page.get_by_label("Email address").fill("charlie@example.org")
    page.get_by_label("Postal code").fill("N1 9GU")
    page.get_by_label("Country", exact=True).select_option("GB")


def test_shoot(live_server: Any, browser: Any, campaign: Petition) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    url = f"{live_server.url}/sign/{campaign.slug}/"
    for width, height, label in [(390, 844, "phone"), (1280, 900, "desktop")]:
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        page.goto(url)
        shoot(page, label)
        page.get_by_role("button", name="Sign the petition").click()
        page.wait_for_selector("#error-summary")
        shoot(page, f"errors-{label}")
        fill(page)
        page.get_by_label("Tick this box to let Open Press email you").check()
        page.get_by_role("button", name="Sign the petition").click()
        page.wait_for_url("**/thanks/")
        shoot(page, f"thanks-{label}")
        context.close()
        Signature.objects.filter(person__email="charlie@example.org").delete()
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/")
    shoot(page, "home-desktop")
    page.close()
