"""/go/ (tracked links) and /o/ (the open-tracking image)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseNotFound, HttpResponseRedirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from groundswell.tracking.links import draft_link_for_staff, link_destination
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
        # Not counted: a staff user checking a draft's test copy is not a click.
        draft_url = draft_link_for_staff(request.user, mailing_id, number)
        if draft_url is not None:
            return _redirect(draft_url)
        return HttpResponseNotFound(
            _("This link is not known. It may have been copied incompletely."),
            content_type="text/plain; charset=utf-8",
        )
    record_link_click(request.META, mailing_id, number, request.GET.get("akid"))
    return _redirect(url)


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
