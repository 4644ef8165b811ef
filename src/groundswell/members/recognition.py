"""Knowing a member by their link: "Not Katy? Click here."

A member token (`akid`) in a link, or the signed cookie it leaves behind, names
the person. Only the first name is ever shown to whoever holds the link.
"""

from __future__ import annotations

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
    token: str
    mailing_id: int
    from_link: bool


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
    if not remembered:
        return None
    found = _person(remembered)
    if found is None:
        return None
    return Recognition(person=found[0], token=remembered, mailing_id=found[1], from_link=False)


def remember(request: HttpRequest, response: HttpResponse, recognition: Recognition) -> None:
    response.set_signed_cookie(
        COOKIE,
        recognition.token,
        salt=COOKIE_SALT,
        max_age=COOKIE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure(),
    )


def forget(response: HttpResponse) -> None:
    response.delete_cookie(COOKIE, samesite="Lax")
