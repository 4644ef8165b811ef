"""Staff sign-in and sign-out, for the workspace and the Django admin alike.

Failed attempts are audit entries, and the same entries are the throttle: after
FAILURES_PER_ACCOUNT failures for one username from one address, or
FAILURES_PER_ADDRESS from one address, within LOCKOUT, that username (or address)
answers 429 until the oldest of those failures is LOCKOUT old. A success ends the
count for its username. Being in the database, the count holds across processes and
machines without a shared cache.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import login, logout
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from groundswell.lib.clients import client_address
from groundswell.members.actions.audit import record_audit
from groundswell.members.models import AuditAction, AuditEntry

FAILURES_PER_ACCOUNT = 5
FAILURES_PER_ADDRESS = 20
LOCKOUT = timedelta(minutes=15)
USERNAME_LIMIT = 150


def _safe_next(request: HttpRequest) -> str:
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


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    next_url = _safe_next(request)
    form = AuthenticationForm(request, data=request.POST or None)
    status = 200
    locked = None
    if request.method == "POST":
        username = request.POST.get("username", "")[:USERNAME_LIMIT]
        address = client_address(request)
        locked = locked_until(username, address)
        if locked is None and form.is_valid():
            user = form.get_user()
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
    if locked:
        response["Retry-After"] = str(max(1, int((locked - timezone.now()).total_seconds())))
    return response


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
    return redirect_to_login(_safe_next(request) if request.GET.get("next") else "/admin/")
