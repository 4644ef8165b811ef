"""Knowing a member by their link: "Not Katy? Click here."

A member token (`akid`) in a link, or the signed cookie it leaves behind, names
the person. Only the first name is ever shown to whoever holds the link.

The cookie holds the two ids, not the token: a page recognised from the cookie alone
(a later visitor of the same browser) carries no token, so nothing it shows can be
taken away and used as the member's link. "Not <name>?" deletes the cookie.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core import signing
from django.http import HttpRequest, HttpResponse

from groundswell.lib.tokens import read_member_token
from groundswell.members.models import Person

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


_REMEMBERED = re.compile(r"^(0|[1-9][0-9]{0,17})\.([1-9][0-9]{0,17})$")


def _person(token: str) -> tuple[Person, int] | None:
    member = read_member_token(token)
    if member is None:
        return None
    person = Person.objects.filter(pk=member.person_id).first()
    return (person, member.mailing_id) if person is not None else None


def recognise(request: HttpRequest, token: str | None = None) -> Recognition | None:
    """The member this request comes from: a token given (from the URL or the form)
    wins over the cookie. Anything tampered, malformed or unknown is no one."""
    if token:
        found = _person(token)
        if found is not None:
            return Recognition(person=found[0], token=token, mailing_id=found[1], from_link=True)
    try:
        remembered = request.get_signed_cookie(COOKIE, salt=COOKIE_SALT, max_age=COOKIE_MAX_AGE)
    except (KeyError, signing.BadSignature):
        return None
    match = _REMEMBERED.match(remembered or "")
    if match is not None:
        mailing_id, person = int(match[1]), Person.objects.filter(pk=int(match[2])).first()
    else:
        # A cookie from before it held ids: it held the token.
        found = _person(remembered) if remembered else None
        mailing_id, person = (found[1], found[0]) if found else (0, None)
    if person is None:
        return None
    return Recognition(person=person, token="", mailing_id=mailing_id, from_link=False)


def remember(request: HttpRequest, response: HttpResponse, recognition: Recognition) -> None:
    response.set_signed_cookie(
        COOKIE,
        f"{recognition.mailing_id}.{recognition.person.pk}",
        salt=COOKIE_SALT,
        max_age=COOKIE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure(),
    )


def forget(response: HttpResponse) -> None:
    response.delete_cookie(COOKIE, samesite="Lax")
