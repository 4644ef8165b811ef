"""Every write to people and their consent happens here."""

from __future__ import annotations

from collections.abc import Sequence, Set
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from groundswell.lib.addresses import normalise_email
from groundswell.lib.db import column_in, insert_all, savepoint_for_races, select_where
from groundswell.lib.tokens import email_hash, email_hashes
from groundswell.members import privacy
from groundswell.members.emails import email_change_link, privacy_link
from groundswell.members.models import (
    AuditAction,
    AuditEntry,
    ConsentEvent,
    Person,
    Subscription,
    SubscriptionStatus,
    Suppression,
    SuppressionReason,
)
from groundswell.members.signals import person_unsubscribed
from groundswell.members.tasks import forget_queued_emails, send_member_email
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
    # No savepoint when called inside a caller's transaction (signing): nothing here
    # needs undoing on its own, and each savepoint costs two statements.
    with transaction.atomic(savepoint=False):
        person = Person.objects.filter(email_normalised=normalised).first()
        if person is None:
            try:
                with savepoint_for_races():
                    person = new_person(details, normalised, source=source)
                    person.save(force_insert=True)
                return person, True
            except IntegrityError:
                # Someone else created this address a moment ago (PostgreSQL; on SQLite
                # IMMEDIATE transactions serialise writers, so this cannot happen there).
                person = Person.objects.get(email_normalised=normalised)
        do_fill_in_blanks(person, details)
        return person, False


def new_person(details: PersonDetails, normalised: str, *, source: str) -> Person:
    """An unsaved Person for these details, trimmed as we store them."""
    return Person(
        email=details.email.strip(),
        email_normalised=normalised,
        first_name=details.first_name.strip(),
        last_name=details.last_name.strip(),
        postal_code=details.postal_code.strip(),
        country=details.country.strip().upper(),
        address=details.address.strip(),
        source=source,
    )


def do_fill_in_blanks(person: Person, details: PersonDetails) -> None:
    """Fill in the person's details where they are blank, never overwriting: someone
    holding only an email address must not be able to change another person's name."""
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


def do_find_or_create_people(
    wanted: Sequence[tuple[PersonDetails, str]],
    *,
    normalised_emails: Sequence[str] | None = None,
) -> list[tuple[Person, bool]]:
    """do_find_or_create_person for many (details, source) pairs in a few statements,
    for signatures written together. Blanks are not filled in here: the caller does it
    (do_fill_in_blanks) only for those it goes on to use.

    Each pair gets its person and whether this call created it; an address given twice
    is created once, for the first. A concurrent transaction creating one of the
    addresses (PostgreSQL) makes the insert raise IntegrityError: the caller retries the
    whole transaction, which then finds it. `normalised_emails`, when the caller has
    them already, are normalise_email of each details.email.
    """
    normalised = (
        list(normalised_emails)
        if normalised_emails is not None
        else [normalise_email(details.email) for details, _ in wanted]
    )
    found = {p.email_normalised: p for p in _people_by_address(normalised)}
    new: dict[str, Person] = {}
    for (details, source), address in zip(wanted, normalised, strict=True):
        if address not in found and address not in new:
            new[address] = new_person(details, address, source=source)
    insert_all(list(new.values()))
    result = []
    for address in normalised:
        if address in new:
            found[address] = new.pop(address)
            result.append((found[address], True))
        else:
            result.append((found[address], False))
    return result


def _people_by_address(normalised: Sequence[str]) -> list[Person]:
    """The people with these normalised addresses. By hand: signatures written together
    look them up in every batch, and the query compiler's work for it was a fifth of
    the batch's Python time, most of it for a batch of people who are all new."""
    column = connection.ops.quote_name(Person._meta.get_field("email_normalised").column)
    return select_where(Person, *column_in(column, normalised))


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
        _lift_suppressions([person])
        return subscription


@dataclass(frozen=True)
class Consent:
    """One person's consent to one list, as do_subscribe takes it."""

    person: Person
    mailing_list: MailingList
    source: str
    wording: str
    ip_address: str | None = None


def do_subscribe_many(consents: Sequence[Consent], *, new_people: Set[int] = frozenset()) -> None:
    """do_subscribe for many at once, in a few statements whatever their number, for
    signatures written together. Every consent gets its own event with its wording.
    `new_people` are ids of people created in this transaction: they have no
    subscriptions to look up.

    A subscription created by a concurrent transaction (PostgreSQL) makes the insert
    raise IntegrityError: the caller retries the whole transaction, which then finds it.
    """
    if not consents:
        return
    if any(not c.wording.strip() for c in consents):
        raise ValueError("Consent needs the wording the person was shown.")
    with transaction.atomic(savepoint=False):
        wanted = {
            (c.person.pk, c.mailing_list.pk) for c in consents if c.person.pk not in new_people
        }
        existing = (
            {
                (s.person_id, s.mailing_list_id): s
                for s in Subscription.objects.select_for_update().filter(
                    person_id__in={person for person, _ in wanted},
                    mailing_list_id__in={mailing_list for _, mailing_list in wanted},
                )
                if (s.person_id, s.mailing_list_id) in wanted
            }
            if wanted
            else {}
        )
        lapsed = [s.pk for s in existing.values() if s.status != SubscriptionStatus.SUBSCRIBED]
        if lapsed:
            Subscription.objects.filter(pk__in=lapsed).update(
                status=SubscriptionStatus.SUBSCRIBED, updated_at=timezone.now()
            )
        new = {}
        for c in consents:
            key = (c.person.pk, c.mailing_list.pk)
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
                for c in consents
            ]
        )
        _lift_suppressions([c.person for c in consents])


def _lift_suppressions(people: Sequence[Person]) -> None:
    # A fresh consent from the person is the one thing that lifts a suppression.
    hashes = {h for person in people for h in email_hashes(person.email_normalised)}
    # By hand: a queryset's delete() costs ten times the statement's own time in Python
    # (its collector looks for related rows and signals; a suppression has neither),
    # and signatures written together run this while holding the write lock.
    meta, quote = Suppression._meta, connection.ops.quote_name
    clause, params = column_in(quote(meta.get_field("email_hash").column), hashes)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {quote(meta.db_table)} WHERE {clause}", params)  # noqa: S608


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


def is_suppressed(normalised_email: str) -> bool:
    return Suppression.objects.filter(email_hash__in=email_hashes(normalised_email)).exists()


def do_suppress(normalised_email: str, *, reason: SuppressionReason, source: str) -> None:
    Suppression.objects.get_or_create(
        email_hash=email_hash(normalised_email), defaults={"reason": reason, "source": source}
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
        if not any(s.mailing_list_id in wanted for s in subscriptions):
            do_suppress(
                person.email_normalised, reason=SuppressionReason.UNSUBSCRIBED, source=source
            )


def do_unsubscribe_from_link(
    person: Person, *, mailing_id: int, source: str, ip_address: str | None = None
) -> list[Subscription]:
    """Unsubscribe everywhere from an email's link, and tell the app that sent that
    email (person_unsubscribed) in the same transaction. `mailing_id` 0: from no mailing."""
    with transaction.atomic():
        changed = do_unsubscribe_everywhere(person, source=source, ip_address=ip_address)
        person_unsubscribed.send(sender=Person, person=person, mailing_id=mailing_id)
        return changed


def do_request_privacy_link(normalised_email: str, kind: str) -> None:
    """Email the person with this address a link to their data's copy or erasure
    (`kind` "export" or "erase"). Nothing happens for an address we do not know."""
    with transaction.atomic():
        person = Person.objects.filter(email_normalised=normalised_email).first()
        if person is None:
            return
        link = privacy_link(person.pk, kind)
        to = person.email
        transaction.on_commit(
            lambda: send_member_email.enqueue(f"privacy-{kind}", to, {"link": link})
        )


@dataclass(frozen=True)
class OwnProfileChange:
    changed: list[str]
    # A link to confirm the new address went to it (and a notice to the old one).
    email_change_requested: bool


def do_update_own_profile(
    person: Person, changes: dict[str, str], *, new_email: str = "", actor: str = "self"
) -> OwnProfileChange:
    """The person changes their details from their profile link. A new address takes
    effect once its owner confirms it (do_change_email): here it is only emailed."""
    with transaction.atomic():
        changed = do_update_profile(person, changes, actor=actor)
        requested = bool(new_email) and normalise_email(new_email) != person.email_normalised
        if requested:
            context = {"first_name": person.first_name or _("friend")}
            link = email_change_link(person.pk, new_email)
            old_email = person.email

            def send() -> None:
                send_member_email.enqueue(
                    "email-change-confirm", new_email, {**context, "link": link}
                )
                send_member_email.enqueue("email-change-notice", old_email, context)

            transaction.on_commit(send)
        return OwnProfileChange(changed=changed, email_change_requested=requested)


PROFILE_FIELDS = ("first_name", "last_name", "address", "postal_code", "country")


def do_update_profile(person: Person, changes: dict[str, str], *, actor: str) -> list[str]:
    """Change the person's own details (not the email: see do_change_email)."""
    with transaction.atomic():
        changed = []
        for field in PROFILE_FIELDS:
            if field not in changes:
                continue
            value = changes[field].strip()
            if field == "country":
                value = value.upper()
            if getattr(person, field) != value:
                setattr(person, field, value)
                changed.append(field)
        if changed:
            person.save(update_fields=[*changed, "updated_at"])
            _audit(person, AuditAction.PROFILE_UPDATED, actor, {"fields": changed})
        return changed


def _audit(
    person: Person | None, action: AuditAction, actor: str, details: dict, *, subject: str = ""
) -> None:
    record_audit(action, actor, person=person, details=details, subject=subject)


def record_audit(
    action: AuditAction,
    actor: str,
    *,
    details: dict | None = None,
    person: Person | None = None,
    subject: str = "",
) -> AuditEntry:
    """One audit entry, written in the caller's transaction. `subject` is the person's
    email hash, found from `person` when not given. An entry not about a person (a mailing
    paused) has neither: its details name the object."""
    return AuditEntry.objects.create(
        action=action,
        actor=actor,
        person=person,
        subject_hash=subject or (email_hash(person.email_normalised) if person else ""),
        details=details or {},
    )


def do_change_email(person: Person, new_email: str, *, actor: str) -> Person:
    """Give the person a new address, confirmed by its owner beforehand.

    If someone else already has that address, the two are the same person: the
    other's subscriptions, consent history and signatures move here and both
    histories are kept.
    """
    normalised = normalise_email(new_email)
    with transaction.atomic():
        person = Person.objects.select_for_update().get(pk=person.pk)
        old_normalised = person.email_normalised
        if normalised == old_normalised:
            person.email = new_email.strip()
            person.save(update_fields=["email", "updated_at"])
            return person
        other = Person.objects.select_for_update().filter(email_normalised=normalised).first()
        merged: dict[str, int] = {}
        if other is not None:
            merged = _merge_into(person, other)
        person.email = new_email.strip()
        person.email_normalised = normalised
        person.save(update_fields=["email", "email_normalised", "updated_at"])
        _audit(
            person,
            AuditAction.EMAIL_CHANGED,
            actor,
            {"old_email_hash": email_hash(old_normalised), "merged": merged},
        )
        return person


def _merge_into(keep: Person, other: Person) -> dict[str, int]:
    """Move everything `other` has onto `keep`, then remove `other`."""
    moved = {"subscriptions": 0}
    for subscription in other.subscriptions.select_related("mailing_list"):
        mine = keep.subscriptions.filter(mailing_list=subscription.mailing_list).first()
        if mine is None:
            subscription.person = keep
            subscription.save(update_fields=["person", "updated_at"])
        else:
            # One subscription per list: its history is both histories, and its status
            # is whichever event happened last.
            subscription.events.update(subscription=mine)
            latest = mine.events.order_by("-created_at", "-id").first()
            if latest is not None and mine.status != latest.kind:
                mine.status = latest.kind
                mine.save(update_fields=["status", "updated_at"])
            Subscription.objects.filter(pk=subscription.pk).delete()
        moved["subscriptions"] += 1
    # Signatures and whatever else other apps keep per person (members/privacy.py).
    moved |= privacy.merge_everywhere(keep, other)
    other.audit_entries.update(person=keep)
    Person.objects.filter(pk=other.pk).delete()
    return moved


def do_erase_person(person: Person, *, actor: str) -> None:
    """Remove the person's personal data and keep only what the counts and the
    "never contact me" promise need: anonymous signatures and a keyed hash.

    Every app that keeps rows about people forgets its own (members/privacy.py), in
    this transaction."""
    with transaction.atomic():
        person = Person.objects.select_for_update().get(pk=person.pk)
        normalised = person.email_normalised
        forgotten = privacy.forget_everywhere(person)
        forget_queued_emails(person)
        # Consent history is personal data (IP addresses) and goes with the person; the
        # suppression below is what now proves they must not be mailed.
        Subscription.objects.filter(person=person).delete()
        do_suppress(normalised, reason=SuppressionReason.ERASED, source=f"erasure:{actor}")
        person.audit_entries.update(person=None)
        _audit(
            None,
            AuditAction.ERASED,
            actor,
            forgotten,
            subject=email_hash(normalised),
        )
        Person.objects.filter(pk=person.pk).delete()


def export_person(person: Person) -> dict[str, object]:
    """Everything we hold about the person, for a copy of their data: their profile and
    subscriptions here, then each other app's sections (members/privacy.py)."""
    subscriptions = person.subscriptions.select_related("mailing_list__organisation").order_by(
        "created_at"
    )
    data: dict[str, object] = {
        "profile": {
            "email": person.email,
            "first_name": person.first_name,
            "last_name": person.last_name,
            "address": person.address,
            "postal_code": person.postal_code,
            "country": person.country,
            "first_source": person.source,
            "created_at": person.created_at.isoformat(),
        },
        "subscriptions": [
            {
                "organisation": s.mailing_list.organisation.name,
                "list": s.mailing_list.name,
                "status": s.status,
                "history": [
                    {
                        "event": e.kind,
                        "at": e.created_at.isoformat(),
                        "source": e.source,
                        "ip_address": e.ip_address,
                        "wording": e.wording,
                    }
                    for e in s.events.all()
                ],
            }
            for s in subscriptions
        ],
    }
    return data | privacy.export_sections(person)


def export_rows(data: dict[str, object]) -> list[list[str]]:
    """The same export flattened for a spreadsheet: section, item, field, value."""
    rows = [["section", "item", "field", "value"]]
    profile = data["profile"]
    assert isinstance(profile, dict)
    rows += [["profile", "", key, str(value)] for key, value in profile.items()]
    for section, items in data.items():
        if section == "profile":
            continue
        assert isinstance(items, list)
        for number, item in enumerate(items, start=1):
            for key, value in item.items():
                if key == "history":
                    for step, event in enumerate(value, start=1):
                        rows += [
                            [section, str(number), f"history {step} {k}", str(v or "")]
                            for k, v in event.items()
                        ]
                else:
                    rows.append([section, str(number), key, str(value)])
    return rows


def do_record_export(person: Person, *, actor: str) -> dict[str, object]:
    data = export_person(person)
    _audit(person, AuditAction.EXPORTED, actor, {})
    return data


def do_delete_people_without_purpose(person_ids: set[int], *, actor: str) -> int:
    """Remove those of these people who have no signature and no subscription left."""
    with transaction.atomic():
        idle = Person.objects.filter(pk__in=person_ids, signatures__isnull=True).exclude(
            subscriptions__isnull=False
        )
        ids = list(idle.values_list("pk", flat=True))
        if not ids:
            return 0
        AuditEntry.objects.filter(person_id__in=ids).update(person=None)
        Person.objects.filter(pk__in=ids).delete()
        record_audit(AuditAction.REMOVED_IDLE_PEOPLE, actor, details={"count": len(ids)})
        return len(ids)


def do_mark_bounced(person: Person, *, source: str, ip: str | None = None) -> list[Subscription]:
    """The address does not exist (a hard bounce): stop mailing it on every list.

    A complaint already recorded stays: it is the stronger reason not to mail.
    """
    with transaction.atomic():
        changed = [
            _change_subscription(
                person,
                subscription.mailing_list,
                SubscriptionStatus.BOUNCED,
                source=source,
                ip_address=ip,
                wording="",
            )
            for subscription in person.subscriptions.select_related("mailing_list").exclude(
                status__in=[SubscriptionStatus.BOUNCED, SubscriptionStatus.COMPLAINED]
            )
        ]
        do_suppress(person.email_normalised, reason=SuppressionReason.BOUNCED, source=source)
        return changed


def do_mark_complained(person: Person, *, source: str) -> list[Subscription]:
    """The person marked our mail as spam: leave every list, never mail them again."""
    with transaction.atomic():
        changed = [
            _change_subscription(
                person,
                subscription.mailing_list,
                SubscriptionStatus.COMPLAINED,
                source=source,
                ip_address=None,
                wording="",
            )
            for subscription in person.subscriptions.select_related("mailing_list").exclude(
                status=SubscriptionStatus.COMPLAINED
            )
        ]
        do_suppress(person.email_normalised, reason=SuppressionReason.COMPLAINED, source=source)
        return changed
