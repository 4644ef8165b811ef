"""A NUL character in a query string is refused before any view reads it.

No link of ours has one, and PostgreSQL cannot take one in a query: the audit log's
filters and the admin's answered 500 to `?actor=%00` (tests/hostile/). Forms refuse it
in what they read (Django's CharField); the raw values views read from a POST drop it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse
from django.views.defaults import bad_request


class NulBytesRefused:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        query = request.META.get("QUERY_STRING", "")
        if ("%00" in query or "\x00" in query) and any(
            "\x00" in name or any("\x00" in value for value in values)
            for name, values in request.GET.lists()
        ):
            return bad_request(request, BadRequest("NUL in the query string"))
        return self.get_response(request)
