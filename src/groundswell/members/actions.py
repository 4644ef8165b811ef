"""Every write to people and their consent happens here."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction

from groundswell.lib.addresses import normalise_email
from groundswell.members.models import ConsentEvent, Person, Subscription, SubscriptionStatus
from groundswell.orgs.models import MailingList


@dataclass(frozen=True)
class PersonDetails:
    email: str
    first_name: str = ""
    last_name: str = ""
    postal_code: str = ""
    country: str = ""
    address: str = ""


def do_find_or_create_person(details: PersonDetails, *, source: str) -> tuple[Person, bool]:
    """The person with this address (any case or spacing), created if new.

    An existing person's details are filled in where they were blank, never
    overwritten: someone holding only an email address must not be able to
    change another person's name.
    """
    normalised = normalise_email(details.email)
    with transaction.atomic():
        person = Person.objects.filter(email_normalised=normalised).first()
        if person is None:
            try:
                with transaction.atomic():
                    person = Person.objects.create(
                        email=details.email.strip(),
                        email_normalised=normalised,
                        first_name=details.first_name.strip(),
                        last_name=details.last_name.strip(),
                        postal_code=details.postal_code.strip(),
                        country=details.country.strip().upper(),
                        address=details.address.strip(),
                        source=source,
                    )
                return person, True
            except IntegrityError:
                # Someone else created this address a moment ago (PostgreSQL; on SQLite
                # IMMEDIATE transactions serialise writers, so this cannot happen there).
                person = Person.objects.get(email_normalised=normalised)
        changed = []
        for field in ("first_name", "last_name", "postal_code", "country", "address"):
            value = getattr(details, field).strip()
            if field == "country":
                value = value.upper()
            if value and not getattr(person, field):
                setattr(person, field, value)
                changed.append(field)
        if changed:
            person.save(update_fields=[*changed, "updated_at"])
        return person, False


def _change_subscription(
    person: Person,
    mailing_list: MailingList,
    status: SubscriptionStatus,
    *,
    source: str,
    ip_address: str | None,
    wording: str,
) -> Subscription:
    with transaction.atomic():
        subscription, created = Subscription.objects.select_for_update().get_or_create(
            person=person, mailing_list=mailing_list, defaults={"status": status}
        )
        if not created and subscription.status != status:
            subscription.status = status
            subscription.save(update_fields=["status", "updated_at"])
        ConsentEvent.objects.create(
            subscription=subscription,
            kind=status,
            source=source,
            ip_address=ip_address,
            wording=wording,
        )
        return subscription


def do_subscribe(
    person: Person,
    mailing_list: MailingList,
    *,
    source: str,
    wording: str,
    ip_address: str | None = None,
) -> Subscription:
    """Record consent to this list, with the exact words the person was shown."""
    if not wording.strip():
        raise ValueError("Consent needs the wording the person was shown.")
    return _change_subscription(
        person,
        mailing_list,
        SubscriptionStatus.SUBSCRIBED,
        source=source,
        ip_address=ip_address,
        wording=wording,
    )


def do_unsubscribe(
    person: Person,
    mailing_list: MailingList,
    *,
    source: str,
    ip_address: str | None = None,
    wording: str = "",
) -> Subscription:
    return _change_subscription(
        person,
        mailing_list,
        SubscriptionStatus.UNSUBSCRIBED,
        source=source,
        ip_address=ip_address,
        wording=wording,
    )
