"""Where a request comes from: one answer for consent records, clicks, the audit log
and sign-in limits alike."""

from __future__ import annotations

from django.http import HttpRequest


def client_address(request: HttpRequest) -> str | None:
    """The client's IP address as the server saw the connection (a reverse proxy in
    front makes this the proxy's; trusting X-Forwarded-For needs a list of proxies)."""
    return request.META.get("REMOTE_ADDR") or None
