"""The demo's crowd: a reproducible stream of planned signers (Katy first, then strangers
drawn from a seeded random generator), with when, where from and to which lists each signs.
Nothing here touches the database; load.py writes the plan."""

from __future__ import annotations

import bisect
import importlib
import itertools
import math
import random
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from faker import Faker

from groundswell.demo import content
from groundswell.demo.content import DemoOrganisation, DemoPetition
from groundswell.petitions import consent as page_consent
from groundswell.petitions.models import Petition

SEED = 20180619


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
        self.seen_emails = {content.KATY["email"]}
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
        signature = PlannedSignature(
            petition=content.CAMPAIGN_A,
            created_at=signed,
            **content.KATY_SIGNATURE,
            subscriptions=[
                PlannedSubscription(org, self.wordings.opt_in[org.slug], None) for org in orgs
            ],
        )
        return PlannedPerson(**content.KATY, signatures=[signature])

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
