"""Where a request comes from: one answer for consent records, clicks, the audit log
and sign-in limits alike."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.http import HttpRequest

_acting_from: ContextVar[str | None] = ContextVar("groundswell_acting_from", default=None)


def client_address(request: HttpRequest) -> str | None:
    """The client's IP address as the server saw the connection (a reverse proxy in
    front makes this the proxy's; trusting X-Forwarded-For needs a list of proxies)."""
    return request.META.get("REMOTE_ADDR") or None


@contextmanager
def acting_from(request: HttpRequest) -> Iterator[None]:
    """While a staff page runs: where the staff user is, for the audit entries its
    actions write (members.actions.audit.record_audit reads it)."""
    reset = _acting_from.set(client_address(request))
    try:
        yield
    finally:
        _acting_from.reset(reset)


def acting_address() -> str | None:
    """The address of the staff user whose page is running, if one is."""
    return _acting_from.get()
