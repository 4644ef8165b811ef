"""Knowing a member by their link: "Not Katy? Click here."

A member token (`akid`) in a link, or the signed cookie it leaves behind, names
the person. Only the first name is ever shown to whoever holds the link.

The cookie holds the two ids, not the token: a page recognised from the cookie alone
(a later visitor of the same browser) carries no token, so nothing it shows can be
taken away and used as the member's link. "Not <name>?" deletes the cookie.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from django.core import signing
from django.db import connection
from django.http import HttpRequest, HttpResponse

from groundswell.lib.db import select_where_with
from groundswell.lib.tokens import MemberToken, read_member_token
from groundswell.members.models import Person, Subscription, SubscriptionStatus
from groundswell.orgs.models import MailingList

COOKIE = "gs_member"
COOKIE_SALT = "groundswell.members.recognition"
COOKIE_MAX_AGE = 30 * 24 * 3600


@dataclass(frozen=True)
class Recognition:
    person: Person
    # The member token from the link; empty when recognised from the cookie.
    token: str
    mailing_id: int
    from_link: bool
    # Of the organisations recognise() was asked about, those whose lists the person
    # is subscribed to (their consent stands).
    consented: frozenset[int] = field(default=frozenset())
    # The token's ids, already checked, when recognised from the link.
    member_token: MemberToken | None = None


_REMEMBERED = re.compile(r"^(0|[1-9][0-9]{0,17})\.([1-9][0-9]{0,17})$")


@lru_cache(maxsize=8)
def _subscribed_to_sql(vendor: str) -> str:
    """True when the person of the row is subscribed to a list of the organisation given
    as the parameter after the status. Per vendor: the quoting is the connection's."""
    quote = connection.ops.quote_name
    person_table = quote(Person._meta.db_table)
    person_pk = quote(Person._meta.pk.column)
    s, m = quote(Subscription._meta.db_table), quote(MailingList._meta.db_table)
    col = {
        "person": quote(Subscription.person.field.column),
        "mailing_list": quote(Subscription.mailing_list.field.column),
        "status": quote(Subscription.status.field.column),
    }
    org = quote(MailingList.organisation.field.column)
    list_pk = quote(MailingList._meta.pk.column)
    # Names from the models, quoted; values are parameters. A scalar subquery, not
    # EXISTS: PostgreSQL may run an EXISTS in the select list as one hashed pass over
    # every subscriber of the organisation's lists, which it chose while a freshly
    # filled table had no statistics yet (10 ms a page with 20,000 subscribers).
    return (
        f"(SELECT 1 FROM {s} INNER JOIN {m} ON {m}.{list_pk} = {s}.{col['mailing_list']} "  # noqa: S608
        f"WHERE {s}.{col['person']} = {person_table}.{person_pk} AND {s}.{col['status']} = %s "
        f"AND {m}.{org} = %s LIMIT 1) IS NOT NULL"
    )


@lru_cache(maxsize=8)
def _by_key_sql(vendor: str) -> str:
    quote = connection.ops.quote_name
    return f"{quote(Person._meta.db_table)}.{quote(Person._meta.pk.column)} = %s"


def _load(
    person_id: int, organisations: Sequence[int], only: tuple[str, ...] | None = None
) -> tuple[Person, frozenset[int]] | None:
    """The person and which of the organisations they have consented to, in one
    statement written by hand: every recognised page view and one-click signature
    asks it (docs/performance.md, the click wave)."""
    params: list[object] = []
    for organisation_id in organisations:
        params += [SubscriptionStatus.SUBSCRIBED.value, organisation_id]
    found = select_where_with(
        Person,
        [_subscribed_to_sql(connection.vendor)] * len(organisations),
        _by_key_sql(connection.vendor),
        [*params, person_id],
        only=only,
    )
    if not found:
        return None
    person, flags = found[0]
    return person, frozenset(o for o, flag in zip(organisations, flags, strict=True) if flag)


def recognise(
    request: HttpRequest,
    token: str | None = None,
    organisations: Sequence[int] = (),
    *,
    only: tuple[str, ...] | None = None,
) -> Recognition | None:
    """The member this request comes from: a token given (from the URL or the form)
    wins over the cookie. Anything tampered, malformed or unknown is no one.
    `organisations` (ids): which of them the member has consented to comes back in
    `consented`, read with the person. `only`: the person's fields to read (the page
    that greets them needs a few); the others are read if used."""
    organisations = list(dict.fromkeys(organisations))
    if token:
        member = read_member_token(token)
        found = _load(member.person_id, organisations, only) if member is not None else None
        if member is not None and found is not None:
            return Recognition(
                person=found[0],
                token=token,
                mailing_id=member.mailing_id,
                from_link=True,
                consented=found[1],
                member_token=member,
            )
    try:
        remembered = request.get_signed_cookie(COOKIE, salt=COOKIE_SALT, max_age=COOKIE_MAX_AGE)
    except (KeyError, signing.BadSignature):
        return None
    match = _REMEMBERED.match(remembered or "")
    if match is not None:
        mailing_id, person_id = int(match[1]), int(match[2])
    else:
        # A cookie from before it held ids: it held the token.
        old = read_member_token(remembered) if remembered else None
        if old is None:
            return None
        mailing_id, person_id = old.mailing_id, old.person_id
    found = _load(person_id, organisations, only)
    if found is None:
        return None
    return Recognition(
        person=found[0], token="", mailing_id=mailing_id, from_link=False, consented=found[1]
    )


@lru_cache(maxsize=1)
def _cookie_signer() -> signing.Signer:
    # What set_signed_cookie builds for every call, built once (the settings it reads
    # are read once): request.get_signed_cookie reads what it signs.
    return signing.get_cookie_signer(salt=COOKIE + COOKIE_SALT)


def remember(request: HttpRequest, response: HttpResponse, recognition: Recognition) -> None:
    response.set_cookie(
        COOKIE,
        _cookie_signer().sign(f"{recognition.mailing_id}.{recognition.person.pk}"),
        max_age=COOKIE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure(),
    )


def forget(response: HttpResponse) -> None:
    response.delete_cookie(COOKIE, samesite="Lax")
