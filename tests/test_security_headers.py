"""Every page carries the security headers: each route of the URL map (enumerated as in
tests/test_staff_isolation.py, parameters filled in) is fetched by a stranger and by an
administrator, and every answer is checked. The Content-Security-Policy allows no
inline script or style, and our templates use none."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

import groundswell
from groundswell.lib.headers import POLICY
from groundswell.lib.tokens import make_member_token
from groundswell.mailings.links import web_version_path
from groundswell.orgs.models import Organisation
from tests import cast
from tests.test_staff_isolation import World, _walk

# Every route of the URL map, several times over: the full passes run it; the Python
# 3.13 fast pass, which checks the code runs there, leaves it out for CI's time limit.
pytestmark = [pytest.mark.django_db, pytest.mark.slow]

TEMPLATES = Path(groundswell.__file__).resolve().parent / "templates"


def all_routes() -> list[str]:
    from django.urls import get_resolver

    routes = [route for route, _ in _walk(get_resolver())]
    assert len(routes) > 100
    # Provider webhooks answer machines (and only to a POST with credentials).
    return [r for r in routes if not r.startswith("webhooks/")]


def url_of(world: World, route: str) -> str:
    token = make_member_token(world.person.pk, world.mailing.pk)
    if route == "mail/<int:mailing_id>-<str:tag>/":
        return web_version_path(world.mailing.pk)
    values = {
        "<int:number>": "1",
        "<str:token>.gif": f"{token}.gif",
        "<str:token>": token,
        "<str:signed>": "not-a-valid-signature",
    }
    for placeholder, value in values.items():
        route = route.replace(placeholder, value)
    return world.url(route)


def assert_secure_headers(response, url: str) -> None:
    policy = response.get("Content-Security-Policy", "")
    assert policy, f"no Content-Security-Policy on {url}"
    script = re.search(r"script-src ([^;]*)", policy)
    assert "'unsafe-eval'" not in policy, url
    assert script is None or "'unsafe-inline'" not in script[1], url
    if policy.startswith(POLICY):
        assert "'unsafe-inline'" not in policy, url
        assert re.search(r"frame-ancestors '(none|self)'", policy), url
    assert response.get("X-Frame-Options") in ("DENY", "SAMEORIGIN"), url
    assert response.get("Referrer-Policy"), url
    assert "camera=()" in response.get("Permissions-Policy", ""), url
    assert response.get("X-Content-Type-Options") == "nosniff", url


def test_every_page_carries_the_security_headers(open_press: Organisation, alice) -> None:
    world = World(open_press, cast.make_petition(sponsors=[open_press]))
    # A third-party admin page answers 500 for a missing object: its error page counts too.
    stranger = Client(raise_request_exception=False)
    administrator = Client(raise_request_exception=False)
    administrator.force_login(alice)
    checked = 0
    for route in all_routes():
        url = url_of(world, route)
        for client in (stranger, administrator):
            assert_secure_headers(client.get(url), url)
            checked += 1
    assert checked > 200


def test_over_https_it_adds_hsts_and_secure_cookies(settings, petition) -> None:
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.CSRF_COOKIE_SECURE = True
    response = Client().get(f"/sign/{petition.slug}/", secure=True)
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    assert response.cookies["csrftoken"]["secure"]
    assert not Client().get(f"/sign/{petition.slug}/").has_header("Strict-Transport-Security")


def test_the_session_cookie_is_out_of_reach_of_scripts(settings) -> None:
    assert settings.SESSION_COOKIE_HTTPONLY


def test_https_settings_follow_the_base_url(tmp_path) -> None:
    """Loaded with an https BASE_URL: secure cookies, HSTS, redirect to https."""
    from tests.test_settings import run_groundswell

    (tmp_path / "data" / "metrics").mkdir(parents=True)
    code = (
        "from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, "
        "s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_HTTPONLY)"
    )
    result = run_groundswell(tmp_path, "shell", "-c", code, BASE_URL="https://act.example.org")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].split() == ["True", "True", "31536000", "True", "True"]


def test_no_template_has_an_inline_script_or_style() -> None:
    inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=\"|\son[a-z]+=\"")
    # Emails are not web pages: mail programs need inline styles.
    found = [
        str(path.relative_to(TEMPLATES))
        for path in TEMPLATES.rglob("*.html")
        if "email" not in path.name and inline.search(path.read_text())
    ]
    assert found == []
