"""Answers Django gave, kept to be handed out again in front of it (the count JSON,
petitions/fastpath.py; tracked links, tracking/fastpath.py).

Each kept answer holds what it was built from (`basis`: the very cached objects, not
their id(), so an identity test cannot be fooled by a reused address); the fast path
hands its bytes out again for as long as its caches still hold those same objects.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class Answer:
    __slots__ = ("basis", "body", "headers", "status")

    def __init__(self, status: str, headers: list, body: bytes, basis: tuple = ()) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.basis = basis

    def sets_cookie(self) -> bool:
        return any(name.lower() == "set-cookie" for name, _ in self.headers)

    def header(self, wanted: str) -> str | None:
        return next((v for name, v in self.headers if name.lower() == wanted.lower()), None)

    def replay(self, start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response(self.status, list(self.headers))
        return [self.body]


def request_facets(environ: dict[str, Any]) -> tuple[str, str, str]:
    """What of a request the headers Django adds may depend on besides the path: the
    Host it accepted, the scheme (an https redirect, HSTS) and the proxy's word on it."""
    return (
        environ.get("HTTP_HOST", ""),
        environ.get("wsgi.url_scheme", ""),
        environ.get("HTTP_X_FORWARDED_PROTO", ""),
    )


def answer_through(
    app: WSGIApp, environ: dict[str, Any], start_response: Callable[..., Any]
) -> Answer:
    """Django's answer to this request, passed on to the client as it is and returned
    whole, to be kept."""
    said: dict[str, Any] = {}

    def remember(status: str, headers: list, exc_info: Any = None) -> Any:
        said["status"], said["headers"] = status, headers
        return start_response(status, headers, exc_info)

    chunks = app(environ, remember)
    try:
        body = b"".join(chunks)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    return Answer(said.get("status", ""), list(said.get("headers", [])), body)
