"""Security headers on every answer: a Content-Security-Policy that allows no inline
script or style, frame protection that agrees with X-Frame-Options, and a
Permissions-Policy. Referrer-Policy, nosniff, the opener policy and HSTS come from
Django's SecurityMiddleware (settings.py).

A view that sets its own Content-Security-Policy keeps it: the email previews and the
demo's mail viewer serve someone else's HTML under stricter, sandboxed policies of their
own.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

# Scripts and styles only from files we serve (static/); no inline ones, no eval, no
# other origin. Images may be data: URIs (nothing else needs them today).
POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "frame-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    ]
)
# Browsers ask for none of these on our pages; saying so stops an injected frame or
# script from asking either.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
)


class SecurityHeaders:
    """Listed before XFrameOptionsMiddleware, so it sees the X-Frame-Options that a view
    chose (DENY by default, SAMEORIGIN for the previews staff pages frame)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            ancestors = (
                "'self'"
                if response.get("X-Frame-Options", "").upper() == "SAMEORIGIN"
                else "'none'"
            )
            response["Content-Security-Policy"] = f"{POLICY}; frame-ancestors {ancestors}"
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response
