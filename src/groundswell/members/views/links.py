"""Who a member page's link is for: the member token in an email's links, or a signed
link we emailed to confirm something."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from groundswell.lib.tokens import PREVIEW_TOKEN, MemberToken, read_member_token
from groundswell.members.emails import person_stamp
from groundswell.members.models import Person
from groundswell.members.views.replies import link_expired, notice

View = TypeVar("View", bound=Callable[..., HttpResponse])
# The view of an emailed link, given the person and the values the link carries.
LinkView = Callable[[HttpRequest, Person, dict], HttpResponse]


def answers_previews(view: View) -> View:
    """A member page reached from a staff preview or test copy (PREVIEW_TOKEN): say so,
    and act for no one."""

    @wraps(view)
    def wrapper(request: HttpRequest, token: str, *args: Any, **kwargs: Any) -> HttpResponse:
        if token == PREVIEW_TOKEN:
            return notice(
                request,
                _("This is a preview"),
                _(
                    "This link came from a staff preview or test copy. In a member's "
                    "own copy it opens their page; here it changes nothing."
                ),
            )
        return view(request, token, *args, **kwargs)

    return cast(View, wrapper)


def member_for_token(token: str) -> tuple[Person, MemberToken]:
    """The person a member token names, and the token read; 404 alike for malformed,
    tampered or unknown."""
    member = read_member_token(token)
    if member is None:
        raise Http404
    person = Person.objects.filter(pk=member.person_id).first()
    if person is None:
        raise Http404
    return person, member


def person_for_token(token: str) -> Person:
    return member_for_token(token)[0]


def read_emailed_link(signed: str, *, salt: str, max_age: int) -> tuple[Person, dict] | None:
    """The person and values an emailed confirmation link carries, if it is ours,
    unexpired, and its person still exists."""
    try:
        value = signing.loads(signed, salt=salt, max_age=max_age)
    except signing.BadSignature:
        return None
    person = Person.objects.filter(pk=value["p"]).first()
    return (person, value) if person is not None else None


def opens_emailed_link(
    *, salt: str, max_age: int, unspent: bool = False
) -> Callable[[LinkView], Callable[[HttpRequest, str], HttpResponse]]:
    """The page of a link we emailed: the view is given the link's person and values,
    and link_expired answers a link that is not ours, has expired or whose person is
    gone. With `unspent`, also one that is spent: used, cancelled from the old address,
    or overtaken by another change, a link's stamp no longer matches its person."""

    def decorator(view: LinkView) -> Callable[[HttpRequest, str], HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, signed: str) -> HttpResponse:
            found = read_emailed_link(signed, salt=salt, max_age=max_age)
            if found is None or (unspent and found[1].get("s") != person_stamp(found[0])):
                return link_expired(request)
            person, value = found
            return view(request, person, value)

        return wrapper

    return decorator
