"""The cast every test shares, and the few builders that make it.

Open Press runs the campaigns, with Open Press Action Fund as its coalition partner;
each has a default list, Supporters. Alice is their organiser (staff), Bob a member,
Charlie a stranger who finds a petition page (tests/petitions/conftest.py sign_data
fills in his form). The usual ones are fixtures in tests/conftest.py. A test about
one detail (a name that needs more than ASCII, a second list, a closed petition), or
one whose pages are checked for other names, passes keywords to the builders here.

People are made through the members app's actions, as signing or an import makes
them, except in bulk (make_people), where thousands go straight into the tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib.auth.models import User
from django.db import connection
from django.test import Client

from groundswell.mailings.models import Mailing
from groundswell.members.actions.consent import do_subscribe
from groundswell.members.actions.people import PersonDetails, do_find_or_create_person
from groundswell.members.models import Person, Subscription, SubscriptionStatus
from groundswell.orgs.models import MailingList, Organisation, StaffRole
from groundswell.petitions.models import Petition, PetitionSponsor

SPONSOR = "Open Press"
PARTNER = "Open Press Action Fund"
WORDING = "Yes, email me."
PASSWORD = "Worms-are-great-42"

BACKGROUND = """\
The company holds a contract worth about $19.4 million with the agency[^1].

More than 100 of its own employees asked it to stop.

[^1]: A news report on the contract, June 2018.
"""

MAILING_BODY = """\
Dear {{ first_name|default:"friend" }},

Please add your name. [Sign the petition]({{ petition_url }}).
"""


def make_org(
    name: str = SPONSOR,
    slug: str = "open-press",
    *,
    default_list: str | None = "supporters",
    **fields: Any,
) -> Organisation:
    """An organisation with its default list (none with default_list=None)."""
    values: dict[str, Any] = {
        "website": f"https://{slug}.example.org/",
        "postal_address": "1 Printing House Yard, Example Town",
        "privacy_policy_url": f"https://{slug}.example.org/privacy",
        "sender_name": name,
        "sender_email": f"hello@{slug}.example.org",
    }
    values.update(fields)
    org = Organisation.objects.create(name=name, slug=slug, **values)
    if default_list is not None:
        make_list(org, default_list, is_default=True)
    return org


def make_partner(**fields: Any) -> Organisation:
    """Open Press Action Fund, the coalition partner."""
    return make_org(PARTNER, "open-press-fund", **fields)


def make_list(
    org: Organisation, slug: str = "supporters", *, name: str = "", is_default: bool = False
) -> MailingList:
    return MailingList.objects.create(
        organisation=org, name=name or slug.title(), slug=slug, is_default=is_default
    )


def default_list(org: Organisation) -> MailingList:
    return MailingList.objects.get(organisation=org, is_default=True)


def make_petition(
    slug: str = "cancel-the-contract",
    *,
    sponsors: Sequence[Organisation] = (),
    status: str | None = "open",
    **fields: Any,
) -> Petition:
    """A petition, open unless told otherwise (None: the model's default, a draft), its
    sponsors in the order given."""
    values: dict[str, Any] = {
        "title": "Cancel the contract",
        "target": "the leaders of Example Corp",
        "statement": "End every contract with the agency.",
        "background": BACKGROUND,
    }
    if status is not None:
        values["status"] = status
    values.update(fields)
    petition = Petition.objects.create(slug=slug, **values)
    for position, org in enumerate(sponsors):
        PetitionSponsor.objects.create(petition=petition, organisation=org, position=position)
    return petition


def make_person(
    email: str = "bob@example.org",
    first_name: str = "",
    last_name: str = "",
    *,
    source: str = "test",
    **details: str,
) -> Person:
    """A person as the members app records one (address normalised, blanks trimmed)."""
    person, _ = do_find_or_create_person(
        PersonDetails(email=email, first_name=first_name, last_name=last_name, **details),
        source=source,
    )
    return person


def make_bob(**details: str) -> Person:
    """Bob the member (subscribe him to what the test needs)."""
    return make_person("bob@example.org", "Bob", "Member", **details)


def subscribe(
    person: Person, mailing_list: MailingList, *, source: str = "test", wording: str = WORDING
) -> Subscription:
    return do_subscribe(person, mailing_list, source=source, wording=wording)


def make_staff(
    username: str = "alice",
    email: str = "alice@open-press.example.org",
    password: str = PASSWORD,
    *,
    superuser: bool = False,
    organisation: Organisation | None = None,
    role: str = "campaigner",
) -> User:
    """Alice the organiser: an installation administrator (superuser), or holding a
    role in one organisation, or signed up with no role anywhere."""
    if superuser:
        return User.objects.create_superuser(username, email, password)
    user = User.objects.create_user(username, email, password)
    if organisation is not None:
        StaffRole.objects.create(user=user, organisation=organisation, role=role)
    return user


def signed_in(user: User, address: str = "127.0.0.1") -> Client:
    """A test client signed in as this user, from this address (tests of signing in
    itself use the form instead)."""
    client = Client(REMOTE_ADDR=address)
    client.force_login(user)
    return client


def staff_client(
    username: str, organisation: Organisation | None = None, role: str = "campaigner"
) -> Client:
    """A new staff user with this role in the organisation (none: no role anywhere),
    signed in."""
    return signed_in(
        make_staff(username, f"{username}@example.org", organisation=organisation, role=role)
    )


def make_people(
    count: int, *, prefix: str = "member", start: int = 0, **fields: str
) -> list[Person]:
    """Many people at once, straight into the table: for tests about who gets a
    mailing and how it is sent, not how people joined."""
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


def subscribe_all(
    people: Iterable[Person],
    mailing_list: MailingList,
    status: str = SubscriptionStatus.SUBSCRIBED,
) -> None:
    """Subscriptions for many, straight into the table (see make_people)."""
    Subscription.objects.bulk_create(
        [Subscription(person=p, mailing_list=mailing_list, status=status) for p in people],
        batch_size=2000,
    )


def make_mailing(org: Organisation, *lists: MailingList, **fields: Any) -> Mailing:
    """A draft mailing from the organisation to these lists, about its petition (one
    sponsored by the organisation is made when it has none and none is given)."""
    if "petition" not in fields:
        fields["petition"] = Petition.objects.filter(sponsorships__organisation=org).order_by(
            "pk"
        ).first() or make_petition(sponsors=[org])
    values: dict[str, Any] = {
        "from_name": org.sender_name,
        "from_email": org.sender_email,
        "subject": "Cancel the contract this week",
        "body": MAILING_BODY,
    }
    values.update(fields)
    mailing = Mailing.objects.create(organisation=org, **values)
    mailing.include_lists.set(lists)
    return mailing
