"""Seed the demo: organisations, the two campaigns, and a crowd of signers with their consent.

This is seed data, so it inserts in bulk rather than through the actions one
signature at a time (5,000 signers take seconds instead of minutes). It still
writes what the actions would have written: a person per address, one signature
per person and petition, a subscription per person and list, and a consent event
carrying the words the signer was shown, the petition as its source and the
moment of signing as its time.

Everything has a natural key (slugs, email addresses), and the crowd comes from a
seeded random generator, so the same people come back on every run: loading
twice adds nothing twice, and a larger --signatures adds only the difference.
"""

from __future__ import annotations

import bisect
import importlib
import itertools
import math
import random
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.db import connection, models, transaction
from django.utils import timezone
from faker import Faker

from groundswell.demo import content
from groundswell.demo.content import DemoOrganisation, DemoPetition
from groundswell.lib.addresses import normalise_email
from groundswell.mailings.models import Mailing
from groundswell.members.models import ConsentEvent, Person, Subscription, SubscriptionStatus
from groundswell.orgs.models import MailingList, Organisation
from groundswell.petitions import consent as page_consent
from groundswell.petitions.models import (
    Petition,
    PetitionSponsor,
    PetitionStatus,
    Signature,
    SignatureStatus,
)

SEED = 20180619
QUERY_CHUNK = 2000
EMAIL_DOMAINS = ("example.com", "example.net", "example.org")
UNSUBSCRIBE_RATE = 0.03
POSTAL_CODES_PER_COUNTRY = 500
PUBLIC_FIRST_OCTETS = (24, 31, 50, 68, 73, 81, 86, 92, 98, 108, 151, 176, 185, 212)

T = TypeVar("T")


@dataclass
class PlannedSubscription:
    organisation: DemoOrganisation
    wording: str
    unsubscribed_at: datetime | None


@dataclass
class PlannedSignature:
    petition: DemoPetition
    created_at: datetime
    source: str
    comment: str
    show_name: bool
    ip_address: str
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    http_referer: str = ""
    subscriptions: list[PlannedSubscription] = field(default_factory=list)


@dataclass
class PlannedPerson:
    email: str
    first_name: str
    last_name: str
    postal_code: str
    country: str
    signatures: list[PlannedSignature] = field(default_factory=list)

    @property
    def first_seen(self) -> PlannedSignature:
        return min(self.signatures, key=lambda signature: signature.created_at)


class WeightedChoice:
    """Picks from Faker's name tables (a tuple, or names with frequencies) in one draw."""

    def __init__(self, table: Sequence[str] | Mapping[str, float]) -> None:
        if isinstance(table, Mapping):
            self.names, weights = list(table.keys()), list(table.values())
        else:
            self.names, weights = list(table), [1.0] * len(table)
        self.cumulative = list(itertools.accumulate(weights))

    def pick(self, r: float) -> str:
        index = bisect.bisect_right(self.cumulative, r * self.cumulative[-1])
        return self.names[min(index, len(self.names) - 1)]


@dataclass(frozen=True)
class ConsentWordings:
    """What the petition page shows above the button, as its consent events record it."""

    notice: dict[str, str]  # by petition slug: one notice naming every sponsor
    opt_in: dict[str, str]  # by organisation slug: the label of its own box

    @classmethod
    def for_petitions(cls, petitions: Sequence[Petition]) -> ConsentWordings:
        notice, opt_in = {}, {}
        for petition in petitions:
            sponsors = [
                sponsorship.organisation
                for sponsorship in petition.sponsorships.select_related("organisation")
            ]
            notice[petition.slug] = page_consent.recorded_wording(
                page_consent.notice_sentence(sponsors), sponsors
            )
            for org in sponsors:
                opt_in[org.slug] = page_consent.recorded_wording(
                    page_consent.explicit_sentence(org), [org]
                )
        return cls(notice=notice, opt_in=opt_in)


@dataclass(frozen=True)
class NamePool:
    first_names: WeightedChoice
    last_names: WeightedChoice
    postal_codes: list[str]


@dataclass(frozen=True)
class LoadResult:
    people: int
    signatures: int
    subscriptions: int
    consent_events: int
    seconds: float


class Crowd:
    """An endless, reproducible stream of signers, Katy first.

    Each person draws the same number of random values whatever the window or the
    requested size, so the first k people are the same in every run.
    """

    def __init__(
        self,
        windows: dict[str, tuple[datetime, datetime]],
        wordings: ConsentWordings,
        seed: int = SEED,
    ) -> None:
        self.windows = windows
        self.wordings = wordings
        self.rng = random.Random(seed)
        # Drawing from Faker one name at a time costs more than the inserts; its tables,
        # with their frequency weights, drawn from directly keep the same realistic mix.
        self.pools: dict[str, NamePool] = {}
        for offset, (country, locale) in enumerate((("US", "en_US"), ("GB", "en_GB"))):
            faker = Faker(locale)
            faker.seed_instance(seed + offset)
            provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
            self.pools[country] = NamePool(
                first_names=WeightedChoice(provider.first_names),
                last_names=WeightedChoice(provider.last_names),
                postal_codes=[faker.postcode() for _ in range(POSTAL_CODES_PER_COUNTRY)],
            )
        self.seen_emails = {content.KATY_EMAIL}
        self.next_number: dict[str, int] = {}
        self.sponsors = {
            petition.slug: [content.organisation(slug) for slug in petition.sponsor_slugs]
            for petition in content.PETITIONS
        }

    def __iter__(self) -> Iterator[PlannedPerson]:
        yield self.katy()
        while True:
            yield self.stranger()

    def katy(self) -> PlannedPerson:
        opened, now = self.windows[content.CAMPAIGN_A.slug]
        signed = min(opened + timedelta(days=2, hours=3, minutes=14), now - timedelta(minutes=1))
        orgs = self.sponsors[content.CAMPAIGN_A.slug]
        return PlannedPerson(
            email=content.KATY_EMAIL,
            first_name=content.KATY_FIRST_NAME,
            last_name=content.KATY_LAST_NAME,
            postal_code=content.KATY_POSTAL_CODE,
            country=content.KATY_COUNTRY,
            signatures=[
                PlannedSignature(
                    petition=content.CAMPAIGN_A,
                    created_at=signed,
                    source="email",
                    comment=content.KATY_COMMENT,
                    show_name=True,
                    ip_address="198.51.100.23",
                    utm_source="email",
                    utm_medium="email",
                    utm_campaign=f"{content.CAMPAIGN_A.slug}-1",
                    subscriptions=[
                        PlannedSubscription(org, self.wordings.opt_in[org.slug], None)
                        for org in orgs
                    ],
                )
            ],
        )

    def stranger(self) -> PlannedPerson:
        country = "US" if self.rng.random() < 0.7 else "GB"
        pool = self.pools[country]
        first_name = pool.first_names.pick(self.rng.random())
        last_name = pool.last_names.pick(self.rng.random())
        person = PlannedPerson(
            email=self.email_for(first_name, last_name),
            first_name=first_name,
            last_name=last_name,
            postal_code=pick(self.rng, pool.postal_codes),
            country=country,
        )
        which = self.rng.random()
        if which < 0.52:
            petitions = [content.CAMPAIGN_A]
        elif which < 0.85:
            petitions = [content.CAMPAIGN_B]
        else:
            petitions = [content.CAMPAIGN_A, content.CAMPAIGN_B]
        for petition in petitions:
            person.signatures.append(self.signature(petition, self.ip_address()))
        return person

    def ip_address(self) -> str:
        # Faker's public-address generator is slow; a first octet from ranges that home
        # and mobile providers use is as realistic for a demo and ten times quicker.
        first = pick(self.rng, PUBLIC_FIRST_OCTETS)
        rest = (self.rng.randrange(256), self.rng.randrange(256), self.rng.randrange(1, 255))
        return ".".join(str(octet) for octet in (first, *rest))

    def email_for(self, first_name: str, last_name: str) -> str:
        first = re.sub(r"[^a-z]", "", first_name.lower()) or "friend"
        last = re.sub(r"[^a-z]", "", last_name.lower()) or "member"
        patterns = (
            f"{first}.{last}",
            f"{first}{last}",
            f"{first[0]}.{last}",
            f"{first}_{last}{self.rng.randrange(10, 99)}",
        )
        local = pick(self.rng, patterns)
        domain = pick(self.rng, EMAIL_DOMAINS)
        base = email = f"{local}@{domain}"
        while email in self.seen_emails:
            # Common names come round often: number them the way mail providers suggest.
            number = self.next_number.get(base, 1) + 1
            self.next_number[base] = number
            email = f"{local}{number}@{domain}"
        self.seen_emails.add(email)
        return email

    def signature(self, petition: DemoPetition, ip_address: str) -> PlannedSignature:
        rng = self.rng
        opened, now = self.windows[petition.slug]
        source = weighted(rng.random(), content.SOURCES, petition.source_weights)
        r_blast, r_delay, r_spread = rng.random(), rng.random(), rng.random()
        signed = signing_time(petition, source, opened, now, r_blast, r_delay, r_spread)
        r_comment, r_which_comment, r_show = rng.random(), rng.random(), rng.random()
        signature = PlannedSignature(
            petition=petition,
            created_at=signed,
            source=source,
            comment=pick_at(r_which_comment, content.COMMENTS) if r_comment < 0.12 else "",
            show_name=r_show < 0.6,
            ip_address=ip_address,
        )
        if source == "email":
            signature.utm_source = signature.utm_medium = "email"
            blast = blast_number(petition, opened, signed)
            signature.utm_campaign = f"{petition.slug}-{blast}"
        elif source in ("facebook", "twitter"):
            signature.utm_source, signature.utm_medium = source, "social"
            signature.utm_campaign = petition.slug
        else:
            signature.http_referer = f"{self.sponsors[petition.slug][0].website}/campaigns/"
        for org in self.sponsors[petition.slug]:
            r_opt_in, r_unsubscribe, r_when = rng.random(), rng.random(), rng.random()
            if petition.consent_mode == "notice":
                wording = self.wordings.notice[petition.slug]
            elif r_opt_in < petition.opt_in_rates.get(org.slug, 0.0):
                wording = self.wordings.opt_in[org.slug]
            else:
                continue
            unsubscribed_at = None
            if r_unsubscribe < UNSUBSCRIBE_RATE:
                later = signed + timedelta(hours=1) + (now - signed) * r_when
                unsubscribed_at = later if later < now else None
            signature.subscriptions.append(PlannedSubscription(org, wording, unsubscribed_at))
        return signature


def pick(rng: random.Random, choices: Sequence[T]) -> T:
    return pick_at(rng.random(), choices)


def pick_at(r: float, choices: Sequence[T]) -> T:
    return choices[min(int(r * len(choices)), len(choices) - 1)]


def weighted(r: float, choices: Sequence[T], weights: Sequence[float]) -> T:
    total, cumulative = sum(weights), 0.0
    for choice, weight in zip(choices, weights, strict=True):
        cumulative += weight / total
        if r < cumulative:
            return choice
    return choices[-1]


def signing_time(
    petition: DemoPetition,
    source: str,
    opened: datetime,
    now: datetime,
    r_blast: float,
    r_delay: float,
    r_spread: float,
) -> datetime:
    """Email signers arrive in the hours after each blast; others trickle in, more early on."""
    window = max(now - opened, timedelta(minutes=2))
    sent = [day for day in petition.email_blast_days if timedelta(days=day) < window]
    if source == "email" and sent:
        blast = timedelta(days=pick_at(r_blast, sent))
        # Half of the replies to an email come within about three and a half hours.
        delay = timedelta(hours=min(-math.log(1.0 - r_delay) * 5.0, 72.0))
        signed = opened + blast + delay
    else:
        signed = opened + window * (r_spread**1.6)
    return max(opened + timedelta(minutes=1), min(signed, now - timedelta(minutes=1)))


def blast_number(petition: DemoPetition, opened: datetime, signed: datetime) -> int:
    days = (signed - opened) / timedelta(days=1)
    return max(1, sum(1 for day in petition.email_blast_days if day <= days))


def plan_crowd(
    signatures: int, windows: dict[str, tuple[datetime, datetime]], wordings: ConsentWordings
) -> list[PlannedPerson]:
    """The first people of the crowd, cut off after exactly `signatures` signatures."""
    people: list[PlannedPerson] = []
    remaining = signatures
    for person in Crowd(windows, wordings):
        if remaining <= 0:
            break
        person.signatures = person.signatures[:remaining]
        remaining -= len(person.signatures)
        people.append(person)
    return people


def insert_rows(model_class: type[models.Model], rows: list[dict[str, Any]]) -> None:
    """INSERT many rows with one prepared statement, keeping the times we give.

    bulk_create spends most of its time building model instances and preparing
    each value through the field; seed rows are plain values already. A column a
    row leaves out gets its field's default, so a field added later with a default
    needs no change here.
    """
    if not rows:
        return
    ops = connection.ops
    now = timezone.now()
    fields = [
        model_field
        for model_field in model_class._meta.concrete_fields
        if not isinstance(model_field, models.AutoField)
    ]
    preparers: list[Callable[[Any], Any]] = []
    defaults: list[Any] = []
    for model_field in fields:
        if isinstance(model_field, models.DateTimeField):
            preparers.append(ops.adapt_datetimefield_value)
            auto = model_field.auto_now or model_field.auto_now_add
            defaults.append(now if auto else model_field.get_default())
        elif isinstance(model_field, models.GenericIPAddressField):
            preparers.append(ops.adapt_ipaddressfield_value)
            defaults.append(model_field.get_default())
        else:
            preparers.append(_as_given)
            defaults.append(model_field.get_default())
    quote = ops.quote_name
    names = [model_field.attname for model_field in fields]
    values = [
        [
            prepare(row.get(name, default))
            for name, prepare, default in zip(names, preparers, defaults, strict=True)
        ]
        for row in rows
    ]
    # Many rows per statement: one round trip each (executemany on PostgreSQL is one per
    # row), and within SQLite's 999 parameters.
    rows_per_statement = max(1, 999 // len(fields))
    placeholders = "({})".format(", ".join(["%s"] * len(fields)))
    # Only quoted names from the model go into the text; every value is a parameter.
    prefix = "INSERT INTO {} ({}) VALUES ".format(  # noqa: S608
        quote(model_class._meta.db_table),
        ", ".join(quote(model_field.column) for model_field in fields),
    )
    with connection.cursor() as cursor:
        for batch in chunks(values, rows_per_statement):
            sql = prefix + ", ".join([placeholders] * len(batch))
            cursor.execute(sql, [value for row in batch for value in row])


def _as_given(value: Any) -> Any:
    return value


def chunks(items: Sequence[T], size: int = QUERY_CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def ensure_organisations() -> dict[str, MailingList]:
    """Each demo organisation and its default list, keyed by organisation slug."""
    lists: dict[str, MailingList] = {}
    for demo in content.ORGANISATIONS:
        organisation, _ = Organisation.objects.get_or_create(
            slug=demo.slug,
            defaults={
                "name": demo.name,
                "website": demo.website,
                "postal_address": demo.postal_address,
                "privacy_policy_url": demo.privacy_policy_url,
                "sender_name": demo.sender_name,
                "sender_email": demo.sender_email,
            },
        )
        default_list = organisation.default_list
        if default_list is None:
            default_list, _ = MailingList.objects.get_or_create(
                organisation=organisation,
                slug="updates",
                defaults={
                    "name": demo.list_name,
                    "description": demo.list_description,
                    "is_default": True,
                },
            )
        lists[demo.slug] = default_list
    return lists


def ensure_petitions(now: datetime) -> dict[str, Petition]:
    petitions: dict[str, Petition] = {}
    for demo in content.PETITIONS:
        opened = now - timedelta(days=demo.opened_days_ago)
        petition, created = Petition.objects.get_or_create(
            slug=demo.slug,
            defaults={
                "title": demo.title,
                "target": demo.target,
                "statement": demo.statement,
                "background": demo.background,
                "goal": demo.goal,
                "status": PetitionStatus.OPEN,
                "consent_mode": demo.consent_mode,
                "thank_you_text": demo.thank_you_text,
                "share_text": demo.share_text,
                "opened_at": opened,
            },
        )
        if created:
            # Drafted a couple of days before it opened; update() leaves auto_now alone.
            petition.created_at = opened - timedelta(days=2)
            Petition.objects.filter(pk=petition.pk).update(created_at=petition.created_at)
        for position, slug in enumerate(demo.sponsor_slugs):
            PetitionSponsor.objects.get_or_create(
                petition=petition,
                organisation=Organisation.objects.get(slug=slug),
                defaults={"position": position},
            )
        petitions[demo.slug] = petition
    return petitions


def ensure_mailing(lists: dict[str, MailingList], petitions: dict[str, Petition]) -> Mailing:
    """Campaign B's email as a draft to its organisation's list.

    Everyone on that list joined by signing Campaign B, so leaving out its signers
    would leave no one; the demo sends to the whole list (the petition page tells
    those who already signed).
    """
    demo = content.CAMPAIGN_B_MAILING
    organisation = Organisation.objects.get(slug=demo.organisation_slug)
    petition = petitions[demo.petition_slug]
    mailing = Mailing.objects.filter(
        organisation=organisation, petition=petition, subject=demo.subject
    ).first()
    if mailing is not None:
        return mailing
    mailing = Mailing.objects.create(
        organisation=organisation,
        from_name=organisation.sender_name,
        from_email=organisation.sender_email,
        subject=demo.subject,
        preheader=demo.preheader,
        body=demo.body,
        petition=petition,
        signoff_name=demo.signoff_name,
        signoff_title=demo.signoff_title,
        signoff_organisation=organisation.name,
    )
    mailing.include_lists.set([lists[organisation.slug]])
    return mailing


def person_ids(emails: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in chunks(emails):
        found.update(
            Person.objects.filter(email_normalised__in=chunk).values_list("email_normalised", "id")
        )
    return found


def load_demo(signatures: int, *, now: datetime | None = None) -> LoadResult:
    """Create what is missing of the demo; return how many rows were added."""
    started = time.perf_counter()
    now = now or timezone.now()
    with transaction.atomic():
        lists = ensure_organisations()
        petitions = ensure_petitions(now)
        ensure_mailing(lists, petitions)
        windows = {
            slug: (petition.opened_at or petition.created_at, now)
            for slug, petition in petitions.items()
        }
        wordings = ConsentWordings.for_petitions(list(petitions.values()))
        crowd = {
            normalise_email(person.email): person
            for person in plan_crowd(signatures, windows, wordings)
        }
        emails = list(crowd)

        known = person_ids(emails)
        new_people = [
            {
                "email": person.email,
                "email_normalised": email,
                "first_name": person.first_name,
                "last_name": person.last_name,
                "postal_code": person.postal_code,
                "country": person.country,
                "source": f"petition:{person.first_seen.petition.slug}",
                "created_at": person.first_seen.created_at,
                "updated_at": person.first_seen.created_at,
            }
            for email, person in crowd.items()
            if email not in known
        ]
        insert_rows(Person, new_people)
        ids = person_ids(emails)

        petition_ids = [petition.id for petition in petitions.values()]
        signed_already = set(
            Signature.objects.filter(petition_id__in=petition_ids).values_list(
                "petition_id", "person_id"
            )
        )
        new_signatures = []
        # (person id, list id) -> the signature that brought the consent, and its terms.
        consents: dict[tuple[int, int], tuple[PlannedSignature, PlannedSubscription]] = {}
        for email, person in crowd.items():
            for planned in sorted(person.signatures, key=lambda signature: signature.created_at):
                petition_id = petitions[planned.petition.slug].id
                if (petition_id, ids[email]) in signed_already:
                    continue
                new_signatures.append(
                    {
                        "petition_id": petition_id,
                        "person_id": ids[email],
                        "comment": planned.comment,
                        "show_name": planned.show_name,
                        "source": planned.source,
                        "http_referer": planned.http_referer,
                        "utm_source": planned.utm_source,
                        "utm_medium": planned.utm_medium,
                        "utm_campaign": planned.utm_campaign,
                        "created_at": planned.created_at,
                        "status": SignatureStatus.VALID,
                    }
                )
                for consent in planned.subscriptions:
                    key = (ids[email], lists[consent.organisation.slug].id)
                    consents.setdefault(key, (planned, consent))
        insert_rows(Signature, new_signatures)

        list_ids = [mailing_list.id for mailing_list in lists.values()]
        subscribed_already = set(
            Subscription.objects.filter(mailing_list_id__in=list_ids).values_list(
                "person_id", "mailing_list_id"
            )
        )
        consents = {key: value for key, value in consents.items() if key not in subscribed_already}
        insert_rows(
            Subscription,
            [
                {
                    "person_id": person_id,
                    "mailing_list_id": list_id,
                    "status": (
                        SubscriptionStatus.UNSUBSCRIBED
                        if consent.unsubscribed_at
                        else SubscriptionStatus.SUBSCRIBED
                    ),
                    "created_at": signed.created_at,
                    "updated_at": consent.unsubscribed_at or signed.created_at,
                }
                for (person_id, list_id), (signed, consent) in consents.items()
            ],
        )

        subscription_ids = {
            (person_id, list_id): subscription_id
            for person_id, list_id, subscription_id in Subscription.objects.filter(
                mailing_list_id__in=list_ids
            ).values_list("person_id", "mailing_list_id", "id")
        }
        events = []
        for key, (signed, consent) in consents.items():
            events.append(
                {
                    "subscription_id": subscription_ids[key],
                    "kind": SubscriptionStatus.SUBSCRIBED,
                    "created_at": signed.created_at,
                    "source": f"petition:{signed.petition.slug}",
                    "ip_address": signed.ip_address,
                    "wording": consent.wording,
                }
            )
            if consent.unsubscribed_at:
                events.append(
                    {
                        "subscription_id": subscription_ids[key],
                        "kind": SubscriptionStatus.UNSUBSCRIBED,
                        "created_at": consent.unsubscribed_at,
                        "source": content.UNSUBSCRIBE_SOURCE,
                        "ip_address": None,
                        "wording": "",
                    }
                )
        insert_rows(ConsentEvent, events)

    return LoadResult(
        people=len(new_people),
        signatures=len(new_signatures),
        subscriptions=len(consents),
        consent_events=len(events),
        seconds=time.perf_counter() - started,
    )
