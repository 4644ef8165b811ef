"""Who may see and do what: the one place staff access is decided.

A staff user holds a role in one or more organisations (`StaffRole`); an installation
administrator (a superuser) may do everything everywhere. Querysets elsewhere scope
themselves with `organisation_ids(user, permission)`; views ask `require(...)`, which
answers 404 for anything the user may not see, so a page never confirms that an object
of another organisation exists.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase

from groundswell.lib.clients import acting_from
from groundswell.orgs.models import Organisation, Role, StaffRole


class Permission(enum.Enum):
    FIGURES = "figures"  # counts, charts, mailing statistics: no one's personal data
    PEOPLE = "people"  # names, addresses, exports of people and signatures
    WRITE = "write"  # petitions, mailings, imports
    MANAGE_STAFF = "manage-staff"  # the organisation's staff and their roles


GRANTS: dict[str, frozenset[Permission]] = {
    Role.OWNER: frozenset(Permission),
    Role.CAMPAIGNER: frozenset({Permission.FIGURES, Permission.PEOPLE, Permission.WRITE}),
    Role.VIEWER: frozenset({Permission.FIGURES}),
}

_CACHE = "_groundswell_roles"


def actor(request: HttpRequest) -> str:
    """How the audit log names the staff user making this request."""
    return f"staff:{request.user.get_username()}"


def is_administrator(user: Any) -> bool:
    """An installation administrator: manages organisations and sees everything."""
    return bool(getattr(user, "is_active", False) and getattr(user, "is_superuser", False))


def roles(user: Any) -> dict[int, str]:
    """The user's role per organisation id, read once per request (cached on the user)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return {}
    cached = getattr(user, _CACHE, None)
    if cached is None:
        cached = dict(StaffRole.objects.filter(user=user).values_list("organisation_id", "role"))
        setattr(user, _CACHE, cached)
    return cast(dict[int, str], cached)


def forget_roles(user: Any) -> None:
    """Drop the cached roles, after they change."""
    if hasattr(user, _CACHE):
        delattr(user, _CACHE)


def is_staff_user(user: Any) -> bool:
    """May use the staff pages at all: an administrator, or holds a role somewhere."""
    return is_administrator(user) or bool(roles(user))


def organisation_ids(user: Any, permission: Permission = Permission.FIGURES) -> frozenset[int]:
    """The organisations where the user has this permission."""
    if is_administrator(user):
        return frozenset(Organisation.objects.values_list("pk", flat=True))
    return frozenset(org for org, role in roles(user).items() if permission in GRANTS[role])


def manages_staff_anywhere(user: Any) -> bool:
    """An administrator, or an owner somewhere: reads an audit log, manages staff."""
    return is_administrator(user) or bool(organisation_ids(user, Permission.MANAGE_STAFF))


def can(user: Any, organisation_id: int | None, permission: Permission) -> bool:
    if is_administrator(user):
        return True
    if organisation_id is None:
        return False
    role = roles(user).get(organisation_id)
    return role is not None and permission in GRANTS[role]


def require(user: Any, organisation_id: int | None, permission: Permission) -> None:
    """404 unless the user has this permission in this organisation."""
    if not can(user, organisation_id, permission):
        raise Http404


def require_administrator(user: Any) -> None:
    if not is_administrator(user):
        raise Http404


View = TypeVar("View", bound=Callable[..., HttpResponseBase])


def staff_required(view: View) -> View:
    """For every staff page: anonymous visitors go to the staff sign-in; a signed-in user
    with no role anywhere gets 404, like anything else they may not see."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        # Here, not at the top: models import this module before the auth app is ready.
        from django.contrib.auth.views import redirect_to_login

        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_staff_user(request.user):
            raise Http404
        with acting_from(request):
            return view(request, *args, **kwargs)

    return cast(View, wrapper)


def administrators_only(admin_view: Callable[..., Any]) -> Callable[..., Any]:
    """Wraps AdminSite.admin_view: a signed-in user who is not an administrator gets
    404 from every admin URL at once (the admin itself would send them to its login
    page, which confirms that the page exists); anonymous visitors still go to sign in."""

    def wrap(view: Callable[..., Any], cacheable: bool = False) -> Callable[..., Any]:
        inner = admin_view(view, cacheable)

        @wraps(view)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.user.is_authenticated and not is_administrator(request.user):
                raise Http404
            with acting_from(request):
                return cast(HttpResponse, inner(request, *args, **kwargs))

        return guarded

    return wrap
