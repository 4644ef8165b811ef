"""Error answers in the site's own look (the templates 400, 403, 404, 429, 500, 503)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent without a valid CSRF token, usually one left open for too long: say
    so plainly instead of Django's technical page. The reason stays in the server log."""
    return render(request, "403.html", status=403)
