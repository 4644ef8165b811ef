"""Staff sign-in and sign-out, for the workspace and the Django admin alike.

Failed attempts are audit entries, and the same entries are the throttle: after
FAILURES_PER_ACCOUNT failures for one username from one address, or
FAILURES_PER_ADDRESS from one address, within LOCKOUT, that username (or address)
answers 429 until the oldest of those failures is LOCKOUT old. A success ends the
count for its username. Being in the database, the count holds across processes and
machines without a shared cache.

Staff with an authenticator app sign in in two steps: the password, then a code from
the app or a recovery code at /staff/login/code/. Between the two they are not signed
in at all: the session holds only who passed the first step, for CODE_STEP_FOR. A
wrong code is a failed sign-in like a wrong password, in the same count; only the
second step's success is a sign-in, so the password alone never ends the count.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model, login, logout
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice

from groundswell.lib.clients import client_address
from groundswell.members.actions.audit import record_audit
from groundswell.members.models import AuditAction, AuditEntry
from groundswell.workspace.actions.twofactor import do_use_code
from groundswell.workspace.twofactor_guard import has_two_factor

View = Callable[[HttpRequest], HttpResponse]

FAILURES_PER_ACCOUNT = 5
FAILURES_PER_ADDRESS = 20
LOCKOUT = timedelta(minutes=15)
USERNAME_LIMIT = 150
CODE_STEP_FOR = timedelta(minutes=5)
PENDING = "groundswell_sign_in_pending"


def safe_next(request: HttpRequest) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return "/staff/"


def locked_until(username: str, address: str | None) -> datetime | None:
    """When this username (from this address), or this address, may try again; None
    when it may now."""
    since = timezone.now() - LOCKOUT
    failures = AuditEntry.objects.filter(
        action=AuditAction.STAFF_SIGN_IN_FAILED, created_at__gte=since, ip_address=address
    )
    last_success = (
        AuditEntry.objects.filter(
            action=AuditAction.STAFF_SIGNED_IN, actor=f"staff:{username}", created_at__gte=since
        )
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    mine = failures.filter(details__username=username)
    if last_success is not None:
        mine = mine.filter(created_at__gt=last_success)
    for found, limit in ((mine, FAILURES_PER_ACCOUNT), (failures, FAILURES_PER_ADDRESS)):
        times = list(found.order_by("-created_at").values_list("created_at", flat=True)[:limit])
        if len(times) >= limit:
            return times[-1] + LOCKOUT
    return None


def _sign_in_step(secret: str) -> Callable[[View], View]:
    """What both sign-in forms need: the secret field kept out of error reports, the
    CSRF check although nobody is signed in yet, no copy in any cache, GET or POST only."""

    def decorate(view: View) -> View:
        view = require_http_methods(["GET", "POST"])(view)
        return sensitive_post_parameters(secret)(csrf_protect(never_cache(view)))

    return decorate


@_sign_in_step("password")
def sign_in(request: HttpRequest) -> HttpResponse:
    next_url = safe_next(request)
    form = AuthenticationForm(request, data=request.POST or None)
    status = 200
    locked = None
    if request.method == "POST":
        # Looked up in the audit log: a NUL, which PostgreSQL cannot take, answered 500.
        username = request.POST.get("username", "").replace("\x00", "")[:USERNAME_LIMIT]
        address = client_address(request)
        locked = locked_until(username, address)
        if locked is None and form.is_valid():
            user = form.get_user()
            if has_two_factor(user):
                _hold_for_code(request, user, next_url)
                return redirect("twofactor:sign-in-code")
            login(request, user)
            record_audit(
                AuditAction.STAFF_SIGNED_IN, f"staff:{user.get_username()}", ip_address=address
            )
            return redirect(next_url)
        if locked is None:
            record_audit(
                AuditAction.STAFF_SIGN_IN_FAILED,
                f"staff:{username}",
                ip_address=address,
                details={"username": username},
            )
            locked = locked_until(username, address)
        status = 429 if locked else 400
    context = {
        "form": form,
        "next": next_url,
        "locked_until": locked,
        "minutes": int(LOCKOUT.total_seconds() // 60),
    }
    response = render(request, "workspace/sign_in.html", context, status=status)
    return _with_retry_after(response, locked)


def _with_retry_after(response: HttpResponse, locked: datetime | None) -> HttpResponse:
    """A locked-out page says when to try again."""
    if locked:
        response["Retry-After"] = str(max(1, int((locked - timezone.now()).total_seconds())))
    return response


def _hold_for_code(request: HttpRequest, user: Any, next_url: str) -> None:
    """Remember who passed the password step, signed in as nobody meanwhile."""
    if request.user.is_authenticated:
        logout(request)
    else:
        request.session.cycle_key()
    request.session[PENDING] = {
        "user": user.pk,
        "backend": user.backend,
        "next": next_url,
        "since": timezone.now().timestamp(),
    }


def _held_for_code(request: HttpRequest) -> tuple[Any, str, str] | None:
    """The user waiting for the code step, their backend and where they were going;
    None when nobody is, or it is CODE_STEP_FOR since the password."""
    held = request.session.get(PENDING)
    if not isinstance(held, dict):
        return None
    since = timezone.now().timestamp() - float(held.get("since", 0))
    user = get_user_model().objects.filter(pk=int(held.get("user", 0)), is_active=True).first()
    if user is None or not 0 <= since <= CODE_STEP_FOR.total_seconds():
        del request.session[PENDING]
        return None
    return user, str(held["backend"]), str(held["next"])


@_sign_in_step("otp_token")
def sign_in_code(request: HttpRequest) -> HttpResponse:
    """The second step: a code from the authenticator app, or a recovery code."""
    held = _held_for_code(request)
    if held is None:
        return redirect(f"{settings.LOGIN_URL}?expired=1")
    user, backend, next_url = held
    username = user.get_username()
    status = 200
    locked = None
    if request.method == "POST":
        address = client_address(request)
        locked = locked_until(username, address)
        if locked is None:
            device = do_use_code(user, request.POST.get("otp_token", ""))
            if device is not None:
                del request.session[PENDING]
                login(request, user, backend=backend)
                otp_login(request, device)
                used = "recovery-code" if isinstance(device, StaticDevice) else "app"
                record_audit(
                    AuditAction.STAFF_SIGNED_IN,
                    f"staff:{username}",
                    ip_address=address,
                    details={"second_step": used},
                )
                return redirect(next_url)
            record_audit(
                AuditAction.STAFF_SIGN_IN_FAILED,
                f"staff:{username}",
                ip_address=address,
                details={"username": username, "step": "code"},
            )
            locked = locked_until(username, address)
        status = 429 if locked else 400
    context = {
        "wrong_code": status == 400,
        "locked_until": locked,
        "minutes": int(LOCKOUT.total_seconds() // 60),
    }
    response = render(request, "workspace/sign_in_code.html", context, status=status)
    return _with_retry_after(response, locked)


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        record_audit(
            AuditAction.STAFF_SIGNED_OUT,
            f"staff:{request.user.get_username()}",
            ip_address=client_address(request),
        )
    logout(request)
    return redirect(settings.LOGIN_URL)


def admin_sign_in(request: HttpRequest, extra_context: object = None) -> HttpResponse:
    """The admin's own login page, replaced: the admin signs in through the staff
    sign-in. A signed-in user who is not an administrator gets 404, as for any page
    they may not see."""
    from django.contrib.auth.views import redirect_to_login
    from django.http import Http404

    if request.user.is_authenticated:
        raise Http404
    return redirect_to_login(safe_next(request) if request.GET.get("next") else "/admin/")
