"""Who owes a second step, and the middleware that keeps them off staff pages until
they have taken it.

A staff user with an authenticator app set up is asked for a code at every sign-in
(workspace/signin.py); a session that has not given one (signed in before the app was
set up, elsewhere) reaches no staff page and no admin page. With STAFF_REQUIRE_2FA on,
an installation administrator or an organisation's owner without an app is sent to set
one up and reaches nothing else until it is confirmed. Each staff view's own check
(orgs.access.staff_required) runs after this one, so this guard only ever narrows it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from groundswell.orgs.access import is_administrator, roles
from groundswell.orgs.models import Role

GUARDED_PREFIXES = ("/staff/", "/admin/")


def has_two_factor(user: Any) -> bool:
    """Has confirmed an authenticator app: every sign-in asks for its code."""
    if not getattr(user, "is_authenticated", False):
        return False
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def must_use_two_factor(user: Any) -> bool:
    """May not use the staff pages on a password alone (when STAFF_REQUIRE_2FA is on):
    an installation administrator, or an owner of any organisation."""
    if not settings.STAFF_REQUIRE_2FA:
        return False
    return is_administrator(user) or Role.OWNER in roles(user).values()


def is_verified(user: Any) -> bool:
    """This session gave a code (set by django_otp's middleware)."""
    check = getattr(user, "is_verified", None)
    return bool(check is not None and check())


class TwoFactorGuard:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        refusal = self._refusal(request)
        return refusal if refusal is not None else self.get_response(request)

    def _refusal(self, request: HttpRequest) -> HttpResponse | None:
        path = request.path_info
        if not path.startswith(GUARDED_PREFIXES):
            return None
        user = request.user
        if not user.is_authenticated or is_verified(user):
            return None
        if path in (reverse("workspace:sign-in"), reverse("workspace:sign-out")):
            return None
        if path.startswith(reverse("twofactor:sign-in-code")):
            return None
        if has_two_factor(user):
            # Signed in before the app was set up (in another browser): sign in again.
            return redirect_to_login(request.get_full_path())
        set_up = reverse("twofactor:set-up")
        if must_use_two_factor(user) and path != set_up:
            return redirect(f"{set_up}?{urlencode({'next': request.get_full_path()})}")
        return None
