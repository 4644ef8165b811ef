"""Small builders for model tests: an organisation with its default list, a petition."""

from __future__ import annotations

from groundswell.members.models import Person
from groundswell.orgs.models import MailingList, Organisation
from groundswell.petitions.models import Petition, PetitionSponsor


def make_org(slug: str = "earthworm") -> Organisation:
    return Organisation.objects.create(
        name=f"Friends of the {slug.title()}",
        slug=slug,
        postal_address="1 Loam Lane, Compost Town",
        privacy_policy_url=f"https://{slug}.example.org/privacy",
        sender_name="Friends",
        sender_email=f"hello@{slug}.example.org",
    )


def make_list(org: Organisation, slug: str = "supporters", *, is_default: bool = False):
    return MailingList.objects.create(
        organisation=org, name=slug.title(), slug=slug, is_default=is_default
    )


def make_petition(slug: str = "save-the-worms", *sponsors: Organisation) -> Petition:
    petition = Petition.objects.create(
        slug=slug, title=slug.replace("-", " ").title(), target="Spade Corp", statement="Stop."
    )
    for position, org in enumerate(sponsors):
        PetitionSponsor.objects.create(petition=petition, organisation=org, position=position)
    return petition


def make_person(email: str, **fields: str) -> Person:
    return Person.objects.create(email=email, email_normalised=email.strip().lower(), **fields)
