"""Consent to a list: subscribing (one or many), unsubscribing from one list, every list
or a link, and the subscriptions a bounce or a complaint ends."""

from __future__ import annotations

import enum
from collections.abc import Sequence, Set
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction

from groundswell.lib.db import column_in, insert_all, savepoint_for_races, select_where
from groundswell.members.actions.suppression import (
    do_suppress,
    lift_suppressions,
    suppressed_people,
)
from groundswell.members.emails import renewal_link
from groundswell.members.mail_sources import email_source
from groundswell.members.models import (
    ConsentEvent,
    Person,
    Subscription,
    SubscriptionStatus,
    SuppressionReason,
)
from groundswell.members.signals import person_unsubscribed
from groundswell.members.tasks import send_member_email
from groundswell.orgs.models import MailingList


def _change_subscription(
    person: Person,
    mailing_list: MailingList,
    status: SubscriptionStatus,
    *,
    source: str,
    ip_address: str | None,
    wording: str,
) -> Subscription:
    with transaction.atomic(savepoint=False):
        subscription = (
            Subscription.objects.select_for_update()
            .filter(person=person, mailing_list=mailing_list)
            .first()
        )
        if subscription is None:
            try:
                with savepoint_for_races():
                    subscription = Subscription.objects.create(
                        person=person, mailing_list=mailing_list, status=status
                    )
            except IntegrityError:
                # Created by a concurrent transaction a moment ago (PostgreSQL only).
                subscription = Subscription.objects.select_for_update().get(
                    person=person, mailing_list=mailing_list
                )
        if subscription.status != status:
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
    with transaction.atomic(savepoint=False):
        subscription = _change_subscription(
            person,
            mailing_list,
            SubscriptionStatus.SUBSCRIBED,
            source=source,
            ip_address=ip_address,
            wording=wording,
        )
        lift_suppressions([person])
        return subscription


@dataclass(frozen=True)
class Consent:
    """One person's consent to one list, as do_subscribe takes it."""

    person: Person
    mailing_list: MailingList
    source: str
    wording: str
    ip_address: str | None = None


def do_subscribe_many(
    consents: Sequence[Consent], *, new_people: Set[int] = frozenset()
) -> list[Consent]:
    """Consents given on a form anyone can fill in (a petition's), for many at once, in
    a few statements whatever their number. Every consent gets its own event with its
    wording. `new_people` are ids of people created in this transaction: they have no
    subscriptions to look up.

    Typing an address proves nothing: a consent for an address that left the list
    (unsubscribed, bounced, complained) or is suppressed (erased, or left every
    organisation) changes nothing here. It is returned, held, and once committed the
    address is asked by email whether it wants to hear from the organisation again;
    its button is the consent (do_subscribe), which lifts the suppression.

    A subscription created by a concurrent transaction (PostgreSQL) makes the insert
    raise IntegrityError: the caller retries the whole transaction, which then finds it.
    """
    if not consents:
        return []
    if any(not c.wording.strip() for c in consents):
        raise ValueError("Consent needs the wording the person was shown.")
    with transaction.atomic(savepoint=False):
        wanted = {
            (c.person.pk, c.mailing_list.pk) for c in consents if c.person.pk not in new_people
        }
        existing = (
            {
                (s.person_id, s.mailing_list_id): s
                for s in _subscriptions_of(wanted)
                if (s.person_id, s.mailing_list_id) in wanted
            }
            if wanted
            else {}
        )
        suppressed = suppressed_people([c.person for c in consents])
        held: list[Consent] = []
        new: dict[tuple[int, int], Subscription] = {}
        recorded: list[Consent] = []
        for c in consents:
            key = (c.person.pk, c.mailing_list.pk)
            lapsed = key in existing and existing[key].status != SubscriptionStatus.SUBSCRIBED
            if c.person.pk in suppressed or lapsed:
                held.append(c)
                continue
            recorded.append(c)
            if key not in existing and key not in new:
                new[key] = Subscription(
                    person=c.person,
                    mailing_list=c.mailing_list,
                    status=SubscriptionStatus.SUBSCRIBED,
                )
        insert_all(list(new.values()))
        existing.update(new)
        insert_all(
            [
                ConsentEvent(
                    subscription=existing[(c.person.pk, c.mailing_list.pk)],
                    kind=SubscriptionStatus.SUBSCRIBED,
                    source=c.source,
                    ip_address=c.ip_address,
                    wording=c.wording,
                )
                for c in recorded
            ]
        )
        if held:
            ask_again(held)
        return held


def _subscriptions_of(wanted: Set[tuple[int, int]]) -> list[Subscription]:
    """The subscriptions of these people to these lists (and of the same people to the
    same lists crosswise, which the caller leaves). By hand: every batch of signatures
    by members asks it while holding the write lock, and the query compiler's work was
    most of the statement's."""
    meta, quote = Subscription._meta, connection.ops.quote_name
    people, people_params = column_in(
        quote(meta.get_field("person").column), sorted({p for p, _ in wanted})
    )
    lists, lists_params = column_in(
        quote(meta.get_field("mailing_list").column), sorted({m for _, m in wanted})
    )
    return select_where(Subscription, f"{people} AND {lists}", [*people_params, *lists_params])


def ask_again(held: Sequence[Consent]) -> None:
    """Once committed, email each held person one question per organisation: hear from
    it again? (members.emails.renewal_link)."""
    asks: dict[tuple[int, int], tuple[Person, MailingList, set[int]]] = {}
    for c in held:
        key = (c.person.pk, c.mailing_list.organisation_id)
        entry = asks.setdefault(key, (c.person, c.mailing_list, set()))
        entry[2].add(c.mailing_list.pk)
    for person, first_list, list_ids in asks.values():
        link = renewal_link(person.pk, sorted(list_ids))
        context = {"link": link, "organisation": first_list.organisation.name}
        to = person.email
        transaction.on_commit(
            lambda to=to, context=context: send_member_email.enqueue(  # type: ignore[misc]
                "consent-renewal", to, context
            )
        )


def do_renew_consent(
    person: Person,
    lists: Sequence[MailingList],
    *,
    source: str,
    wording: str,
    ip_address: str | None = None,
) -> None:
    """The person, from their own address, wants these lists again: subscribe them and
    lift the suppression (do_subscribe does both)."""
    with transaction.atomic():
        for mailing_list in lists:
            do_subscribe(
                person, mailing_list, source=source, wording=wording, ip_address=ip_address
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


def do_unsubscribe_everywhere(
    person: Person, *, source: str, ip_address: str | None = None
) -> list[Subscription]:
    """Leave every list of every organisation and never be mailed again until re-consent."""
    with transaction.atomic():
        changed = [
            do_unsubscribe(person, subscription.mailing_list, source=source, ip_address=ip_address)
            for subscription in person.subscriptions.select_related("mailing_list").filter(
                status=SubscriptionStatus.SUBSCRIBED
            )
        ]
        do_suppress(person.email_normalised, reason=SuppressionReason.UNSUBSCRIBED, source=source)
        return changed


def do_update_subscriptions(
    person: Person,
    wanted: set[int],
    *,
    source: str,
    wording: str,
    ip_address: str | None = None,
) -> None:
    """Set which of the person's lists they stay on. `wanted` holds mailing list ids.

    Only lists the person already has a subscription to can be chosen here: joining
    an organisation's list for the first time needs that organisation's own consent.
    Leaving every list does not suppress the address: that is the unsubscribe page's
    separate choice of every organisation on the site.
    """
    with transaction.atomic():
        subscriptions = list(
            person.subscriptions.select_for_update().select_related("mailing_list")
        )
        for subscription in subscriptions:
            keep = subscription.mailing_list_id in wanted
            if keep and not subscription.is_subscribed:
                do_subscribe(
                    person,
                    subscription.mailing_list,
                    source=source,
                    wording=wording,
                    ip_address=ip_address,
                )
            elif not keep and subscription.is_subscribed:
                do_unsubscribe(
                    person, subscription.mailing_list, source=source, ip_address=ip_address
                )


class UnsubscribeScope(enum.StrEnum):
    """How far an unsubscribe from an email's link reaches."""

    LISTS = "lists"  # the lists the email was sent to (what one click does)
    ORGANISATION = "organisation"  # every list of the organisation that sent it
    EVERYWHERE = "everywhere"  # every organisation on the site, and suppress the address


def do_unsubscribe_from_link(
    person: Person,
    *,
    mailing_id: int,
    scope: UnsubscribeScope = UnsubscribeScope.LISTS,
    source: str,
    ip_address: str | None = None,
) -> list[Subscription]:
    """Unsubscribe as far as `scope` says from an email's link, and tell the app that
    sent that email (person_unsubscribed) in the same transaction. `mailing_id` 0: from
    no mailing, so no organisation is known and only EVERYWHERE can be honoured, which
    is what any scope then does.

    Only EVERYWHERE suppresses the address: leaving one organisation's lists leaves the
    person's consent to every other organisation as it was."""
    with transaction.atomic():
        found = email_source(mailing_id)
        tagged = f"{source}:{scope}"
        if scope == UnsubscribeScope.EVERYWHERE or found is None:
            changed = do_unsubscribe_everywhere(
                person, source=f"{source}:{UnsubscribeScope.EVERYWHERE}", ip_address=ip_address
            )
        else:
            subscribed = person.subscriptions.select_related("mailing_list").filter(
                status=SubscriptionStatus.SUBSCRIBED,
                mailing_list__organisation_id=found.organisation_id,
            )
            if scope == UnsubscribeScope.LISTS:
                # Sent to a list the person has left since, or through another of the
                # organisation's lists: the organisation's lists are what they meant.
                subscribed = subscribed.filter(mailing_list_id__in=found.list_ids) or subscribed
            changed = [
                do_unsubscribe(person, s.mailing_list, source=tagged, ip_address=ip_address)
                for s in subscribed
            ]
        person_unsubscribed.send(sender=Person, person=person, mailing_id=mailing_id)
        return changed


def do_mark_bounced(person: Person, *, source: str, ip: str | None = None) -> list[Subscription]:
    """The address does not exist (a hard bounce): stop mailing it on every list.

    A complaint already recorded stays: it is the stronger reason not to mail.
    """
    return _stop_mailing(
        person,
        SubscriptionStatus.BOUNCED,
        SuppressionReason.BOUNCED,
        stronger=[SubscriptionStatus.BOUNCED, SubscriptionStatus.COMPLAINED],
        source=source,
        ip=ip,
    )


def do_mark_complained(person: Person, *, source: str) -> list[Subscription]:
    """The person marked our mail as spam: leave every list, never mail them again."""
    return _stop_mailing(
        person,
        SubscriptionStatus.COMPLAINED,
        SuppressionReason.COMPLAINED,
        stronger=[SubscriptionStatus.COMPLAINED],
        source=source,
        ip=None,
    )


def _stop_mailing(
    person: Person,
    status: SubscriptionStatus,
    reason: SuppressionReason,
    *,
    stronger: list[SubscriptionStatus],
    source: str,
    ip: str | None,
) -> list[Subscription]:
    """Every subscription of the person not already at `status` or a `stronger` one moves
    to `status`, and the address is suppressed for `reason`."""
    with transaction.atomic():
        changed = [
            _change_subscription(
                person,
                subscription.mailing_list,
                status,
                source=source,
                ip_address=ip,
                wording="",
            )
            for subscription in person.subscriptions.select_related("mailing_list").exclude(
                status__in=stronger
            )
        ]
        do_suppress(person.email_normalised, reason=reason, source=source)
        return changed
