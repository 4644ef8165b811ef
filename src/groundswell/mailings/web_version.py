"""The public web version of a mailing ("view in your browser"): /mail/<id>-<tag>/."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from groundswell.mailings import links, rendering
from groundswell.mailings.models import Mailing
from groundswell.orgs.access import Permission, require

WEB_VERSION_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:"


@require_GET
def web_version(request: HttpRequest, mailing_id: int, tag: str) -> HttpResponse:
    """Public once the send has started; before, a draft's, only for staff who may see
    the mailing (following a test copy's link), and never kept by a cache."""
    if not links.is_web_version_tag(mailing_id, tag):
        raise Http404
    mailing = Mailing.objects.filter(pk=mailing_id).first()
    if mailing is None:
        raise Http404
    public = mailing.started_at is not None
    if not public:
        require(request.user, mailing.organisation_id, Permission.FIGURES)
    response = HttpResponse(rendering.render_web_version(mailing))
    response["Content-Security-Policy"] = WEB_VERSION_CSP
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "public, max-age=300" if public else "private, no-store"
    return response
