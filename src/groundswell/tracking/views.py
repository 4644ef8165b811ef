"""/go/ (tracked links) and /o/ (the open-tracking image)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound, HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from groundswell.tracking.links import draft_link, link_destination, may_follow
from groundswell.tracking.recording import record_link_click, record_open

# The smallest transparent GIF: 1x1, one transparent colour (43 bytes).
TRANSPARENT_GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff"
    b"!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)


@require_safe
def go(request: HttpRequest, mailing_id: int, number: int) -> HttpResponse:
    # The destination comes from the database only: nothing in the request can
    # change where this redirects (no open redirect).
    url = link_destination(mailing_id, number)
    if url is None:
        draft = draft_link(mailing_id, number)
        if draft is not None and may_follow(request.user, draft):
            # Not counted: a staff user checking a draft's test copy is not a click.
            return _redirect(draft.url)
        if draft is not None:
            return _test_copy_link(request)
        return HttpResponseNotFound(
            _("This link is not known. It may have been copied incompletely."),
            content_type="text/plain; charset=utf-8",
        )
    record_link_click(request.META, mailing_id, number, request.GET.get("akid"))
    return _redirect(url)


def _test_copy_link(request: HttpRequest) -> HttpResponse:
    """A link from a test copy of a mailing not sent yet, followed by someone who may
    not see the mailing (often its author, reading the copy in their own mail
    program, signed out): say so, not "unknown", and offer to sign in. It says no
    more than the copy itself did: that the mailing exists and is a draft."""
    signed_in = bool(getattr(request.user, "is_authenticated", False))
    sign_in = (
        "" if signed_in else f"{settings.LOGIN_URL}?{urlencode({'next': request.get_full_path()})}"
    )
    response = render(request, "tracking/test_copy_link.html", {"sign_in": sign_in}, status=404)
    response["Cache-Control"] = "private, no-store"
    return response


def _redirect(url: str) -> HttpResponse:
    response = HttpResponseRedirect(url)
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_safe
def open_image(request: HttpRequest, mailing_id: int, token: str) -> HttpResponse:
    record_open(request, mailing_id, token)
    response = HttpResponse(TRANSPARENT_GIF, content_type="image/gif")
    response["Cache-Control"] = "no-store, no-cache, must-revalidate, max-age=0, private"
    response["Pragma"] = "no-cache"
    response["Expires"] = "0"
    return response
