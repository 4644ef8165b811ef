"""The staff user's own two-factor page (/staff/account/two-factor/): set up an
authenticator app from a QR code (or its secret typed in), confirm it with a code, see
the recovery codes once; later make new recovery codes or turn it off, each with a
current code. The sign-in's code step is in signin.py; who must use it, twofactor_guard.py.
"""

from __future__ import annotations

from base64 import b32encode
from binascii import unhexlify
from collections.abc import Callable
from functools import wraps
from typing import Any

import segno
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from groundswell.lib.clients import client_address
from groundswell.orgs.access import staff_required
from groundswell.workspace import signin
from groundswell.workspace.actions.twofactor import (
    do_renew_recovery_codes,
    do_turn_off_two_factor,
    do_turn_on_two_factor,
    new_secret,
)
from groundswell.workspace.twofactor_guard import has_two_factor, must_use_two_factor

StaffView = Callable[[HttpRequest], HttpResponse]

# The secret being set up lives in the session until a code confirms it, so an
# abandoned set-up leaves no row behind.
NEW_APP_KEY = "groundswell_new_app_key"


def _secret_in_letters(secret: str) -> str:
    """The secret as an app asks for it when typed in: base32, in groups of four."""
    letters = b32encode(unhexlify(secret)).decode()
    return " ".join(letters[i : i + 4] for i in range(0, len(letters), 4))


def _qr_code(request: HttpRequest, secret: str) -> str:
    url = TOTPDevice(user=request.user, key=secret).config_url
    svg = segno.make(url, error="m").svg_inline(
        omitsize=True, title="QR code for your authenticator app"
    )
    # segno draws the SVG from the URL's bits; its only text is the fixed title above.
    return mark_safe(svg)  # noqa: S308


def recovery_codes_left(user: Any) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def _page(request: HttpRequest, *, status: int = 200, **context: Any) -> HttpResponse:
    user = request.user
    context.setdefault("next", signin.safe_next(request))
    context["required"] = must_use_two_factor(user)
    if has_two_factor(user):
        context["is_on"] = True
        context["codes_left"] = recovery_codes_left(user)
    else:
        secret = request.session.get(NEW_APP_KEY) or new_secret()
        request.session[NEW_APP_KEY] = secret
        context["qr_code"] = _qr_code(request, secret)
        context["secret"] = _secret_in_letters(secret)
    return render(request, "workspace/two_factor.html", context, status=status)


@sensitive_post_parameters("otp_token")
@never_cache
@staff_required
@require_http_methods(["GET", "POST"])
def set_up(request: HttpRequest) -> HttpResponse:
    if request.method == "GET" or has_two_factor(request.user):
        return _page(request)
    secret = request.session.get(NEW_APP_KEY)
    turned_on = (
        do_turn_on_two_factor(
            request.user,
            secret,
            request.POST.get("otp_token", ""),
            ip_address=client_address(request),
        )
        if secret
        else None
    )
    if turned_on is None:
        return _page(request, status=400, wrong_code=True)
    del request.session[NEW_APP_KEY]
    otp_login(request, turned_on.device)
    return _codes(request, turned_on.recovery_codes)


def _codes(request: HttpRequest, codes: list[str]) -> HttpResponse:
    """Shown once: answered to the POST that made them, never stored in the clear."""
    context = {"codes": codes, "next": signin.safe_next(request)}
    return render(request, "workspace/two_factor_codes.html", context)


def _change_with_code(view: StaffView) -> StaffView:
    """A change to two-factor sign-in confirmed by a current code: a POST by staff who
    have it on (the others are sent to set it up), the code kept out of error reports
    and the answer out of every cache."""

    @wraps(view)
    def checked(request: HttpRequest) -> HttpResponse:
        if not has_two_factor(request.user):
            return redirect("twofactor:set-up")
        return view(request)

    return sensitive_post_parameters("otp_token")(
        never_cache(staff_required(require_POST(checked)))
    )


@_change_with_code
def renew_codes(request: HttpRequest) -> HttpResponse:
    codes = do_renew_recovery_codes(
        request.user, request.POST.get("otp_token", ""), ip_address=client_address(request)
    )
    if codes is None:
        return _page(request, status=400, wrong_code_for="renew")
    return _codes(request, codes)


@_change_with_code
def turn_off(request: HttpRequest) -> HttpResponse:
    if not do_turn_off_two_factor(
        request.user, request.POST.get("otp_token", ""), ip_address=client_address(request)
    ):
        return _page(request, status=400, wrong_code_for="off")
    return _page(request, turned_off=True)


# Mounted under staff/ (namespace "twofactor") by groundswell/urls.py.
twofactor_urls = [
    path("login/code/", signin.sign_in_code, name="sign-in-code"),
    path("account/two-factor/", set_up, name="set-up"),
    path("account/two-factor/recovery-codes/", renew_codes, name="renew-codes"),
    path("account/two-factor/off/", turn_off, name="turn-off"),
]
