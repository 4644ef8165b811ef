"""What the member pages answer in common: a one-panel notice, a link that no longer
works, and "please wait" when a form that sends email is used too often."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from groundswell.lib.clients import client_address, network_of
from groundswell.limits.actions import OverLimit, do_count_request


def notice(request: HttpRequest, title: str, message: str) -> HttpResponse:
    """One panel telling the member what has just happened."""
    return render(request, "members/notice.html", {"title": title, "message": message})


def link_expired(request: HttpRequest) -> HttpResponse:
    """An emailed link that is not ours, has expired, or is spent: 404 alike."""
    return render(request, "members/link_expired.html", status=404)


def count_email_request(request: HttpRequest, address: str) -> OverLimit | None:
    """A form that emails `address` is used once more: None, or until when it may not be
    (EMAIL_REQUEST_LIMITS, per client network and per address; docs/security.md). The
    same whether or not we know the address, so the answer tells nothing."""
    return do_count_request(
        "email-request",
        {"network": network_of(client_address(request)), "address": address},
        settings.EMAIL_REQUEST_LIMITS,
    )


def too_many_sentence(over: OverLimit) -> str:
    minutes = max(1, -(-over.retry_after_seconds(timezone.now()) // 60))
    return ngettext(
        "We have sent several emails for this lately. Please try again in %(n)s minute.",
        "We have sent several emails for this lately. Please try again in %(n)s minutes.",
        minutes,
    ) % {"n": minutes}


def too_many(request: HttpRequest, over: OverLimit) -> HttpResponse:
    response = render(
        request,
        "members/notice.html",
        {"title": _("Please wait a little"), "message": too_many_sentence(over)},
        status=429,
    )
    return with_retry_after(response, over)


def with_retry_after(response: HttpResponse, over: OverLimit) -> HttpResponse:
    response["Retry-After"] = str(over.retry_after_seconds(timezone.now()))
    return response
