"""Calling the site's WSGI application directly, for the fast paths in front of Django
(petitions/fastpath.py, tracking/fastpath.py)."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any

from django.core.handlers.wsgi import WSGIHandler

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class CountingDjango:
    """Django's own WSGI handler, counting the requests that reach it."""

    def __init__(self) -> None:
        self.handler = WSGIHandler()
        self.calls = 0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        self.calls += 1
        return self.handler(environ, start_response)


def call(
    app: WSGIApp,
    path: str,
    query: str = "",
    *,
    method: str = "GET",
    host: str = "testserver",
    **extra: str,
) -> tuple[str, dict[str, str], bytes]:
    """One request: its status line, headers and body."""
    status, headers, body = call_with_header_list(
        app, path, query, method=method, host=host, **extra
    )
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
    """The same, with the headers as sent: a name may come more than once (Set-Cookie)."""
    answer: dict[str, Any] = {}

    def start_response(status: str, headers: list, exc_info: Any = None) -> None:
        answer["status"], answer["headers"] = status, list(headers)

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
    chunks: Iterable[bytes] = app(environ, start_response)
    try:
        body = b"".join(chunks)
    finally:
        # As a WSGI server does: Django's response sends request_finished on close.
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    return answer["status"], answer["headers"], body
