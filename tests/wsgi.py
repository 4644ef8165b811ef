"""Calling the site's WSGI application directly, for the fast paths in front of Django
(petitions/fastpath.py, tracking/fastpath.py)."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from django.core.handlers.wsgi import WSGIHandler

from groundswell.lib.replayed import WSGIApp, answer_through


class CountingDjango:
    """Django's own WSGI handler, counting the requests that reach it."""

    def __init__(self) -> None:
        self.handler = WSGIHandler()
        self.calls = 0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        self.calls += 1
        return self.handler(environ, start_response)


def call(
    app: WSGIApp, path: str, query: str = "", **options: Any
) -> tuple[str, dict[str, str], bytes]:
    """One request: its status line, headers and body (options: call_with_header_list's)."""
    status, headers, body = call_with_header_list(app, path, query, **options)
    return status, dict(headers), body


def call_with_header_list(
    app: WSGIApp,
    path: str,
    query: str = "",
    *,
    method: str = "GET",
    host: str = "testserver",
    **extra: str,
) -> tuple[str, list[tuple[str, str]], bytes]:
    """The same, with the headers as sent: a name may come more than once (Set-Cookie).
    The body is read and closed as a WSGI server does (Django's response sends
    request_finished on close)."""
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": host,
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": io.StringIO(),
        "wsgi.url_scheme": "http",
        **extra,
    }
    answer = answer_through(app, environ, lambda *args: None)
    return answer.status, list(answer.headers), answer.body
