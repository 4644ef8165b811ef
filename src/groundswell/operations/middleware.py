"""Request ids, the operations endpoints and the response counts (docs/operations.md).

RequestIds gives each request an id (the proxy's X-Request-ID when it sent a usable
one) that every log line of the request carries (lib/logs.py), so the proxy's log
line and ours can be matched. It is not sent back: the count JSON's responses are
kept and replayed to later visitors (petitions/fastpath.py), and would carry the
first request's id.

ResponseMetrics comes first in the middleware list so that it counts every answer,
the other middleware's included (lib/metrics.py). OperationsEndpoints answers
/healthz, /readyz and /metrics before the Host check, sessions and CSRF: load
balancers and Prometheus ask by IP address, and a probe every second should cost
next to nothing. DatabaseAway answers the site's 503 page, not a 500, to a request
that failed because the database cannot be used now (the sign view keeps the form
instead: petitions/views.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render

from groundswell.lib.db import DATABASE_AWAY
from groundswell.lib.logs import end_request, start_request
from groundswell.lib.metrics import HTTP_RESPONSES, SIGN_SECONDS
from groundswell.operations import health, metrics

GetResponse = Callable[[HttpRequest], HttpResponseBase]

logger = logging.getLogger(__name__)

# What a 503 asks browsers and proxies to wait before trying again.
RETRY_AFTER_SECONDS = 30

ENDPOINTS: dict[str, GetResponse] = {
    "/healthz": health.healthz,
    "/readyz": health.readyz,
    "/metrics": metrics.metrics,
}


class RequestIds:
    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        # Cleared at request_finished: Django logs a 4xx or 5xx after the middleware.
        start_request(request.headers.get("X-Request-ID"))
        return self.get_response(request)


request_finished.connect(end_request, dispatch_uid="groundswell-request-id")


class ResponseMetrics:
    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        started = time.perf_counter()
        response = self.get_response(request)
        HTTP_RESPONSES.labels(str(response.status_code)).inc()
        match = request.resolver_match
        if request.method == "POST" and match is not None and match.url_name == "petition":
            SIGN_SECONDS.observe(time.perf_counter() - started)
        return response


class OperationsEndpoints:
    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        endpoint = ENDPOINTS.get(request.path_info)
        if endpoint is not None:
            return endpoint(request)
        return self.get_response(request)


class DatabaseAway:
    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DATABASE_AWAY):
            return None
        # The kind only: a database's message can quote a row.
        logger.warning("The database is unavailable (%s): answered 503.", type(exception).__name__)
        response = render(request, "503.html", status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        response["Cache-Control"] = "private, no-store"
        return response
