"""Seed the demo: organisations, the two campaigns, and a crowd of signers with their consent.

This is seed data, so it inserts in bulk rather than through the actions one
signature at a time (5,000 signers take seconds instead of minutes). It still
writes what the actions would have written: a person per address, one signature
per person and petition, a subscription per person and list, and a consent event
carrying the words the signer was shown, the petition as its source and the
moment of signing as its time.

Everything has a natural key (slugs, email addresses), and the crowd (crowd.py) comes from a
seeded random generator, so the same people come back on every run: loading
twice adds nothing twice, and a larger --signatures adds only the difference.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.db import connection, models, transaction
from django.utils import timezone

from groundswell.demo import content
from groundswell.demo.crowd import (
    ConsentWordings,
    PlannedSignature,
    PlannedSubscription,
    plan_crowd,
)
from groundswell.lib.addresses import normalise_email
from groundswell.mailings.models import Mailing
from groundswell.members.models import ConsentEvent, Person, Subscription, SubscriptionStatus
from groundswell.orgs.models import MailingList, Organisation
from groundswell.petitions.models import (
    Petition,
    PetitionSponsor,
    PetitionStatus,
    Signature,
    SignatureStatus,
)

QUERY_CHUNK = 2000

T = TypeVar("T")


@dataclass(frozen=True)
class LoadResult:
    people: int
    signatures: int
    subscriptions: int
    consent_events: int
    seconds: float


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


def model_values(demo: object, model_class: type[models.Model]) -> dict[str, Any]:
    """What a new row takes from the demo's content: the model's fields it names alike."""
    fields = model_class._meta.concrete_fields
    return {field.name: getattr(demo, field.name) for field in fields if hasattr(demo, field.name)}


def ensure_organisations() -> dict[str, MailingList]:
    """Each demo organisation and its default list, keyed by organisation slug."""
    lists: dict[str, MailingList] = {}
    for demo in content.ORGANISATIONS:
        organisation, _ = Organisation.objects.get_or_create(
            slug=demo.slug, defaults=model_values(demo, Organisation)
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
                **model_values(demo, Petition),
                "status": PetitionStatus.OPEN,
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
