"""A member's petition page answered in front of Django's middleware
(petitions/fastpath.py RecognisedPagesInFront): the answer Django would give, the
click counted once, and anything unusual left to Django."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import OperationalError
from django.middleware.csrf import _unmask_cipher_token

from groundswell.petitions import pages
from groundswell.petitions.counter import clear_process_cache
from groundswell.petitions.fastpath import RecognisedPagesInFront
from groundswell.petitions.models import PetitionStatus
from groundswell.tracking.links import clear_link_cache
from groundswell.tracking.models import Click
from groundswell.tracking.recording import CLICKS, flush_all
from tests.tracking.cast import Cast, make_cast
from tests.wsgi import CountingDjango, call_with_header_list

# Transactional: Django closes its connection at the end of each request it answers.
pytestmark = pytest.mark.django_db(transaction=True)

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126 Safari/537.36"
# What differs between two answers to the same member: the form's CSRF token (masked
# afresh each time), its "shown at" stamp and the cookies' values.
_PER_ANSWER = re.compile(rb'(name="(?:csrfmiddlewaretoken|shown)" value=")[^"]*(")')


@pytest.fixture(autouse=True)
def empty_caches() -> Iterator[None]:
    for clear in (clear_link_cache, clear_process_cache, pages.clear_page_cache):
        clear()
    yield
    for clear in (clear_link_cache, clear_process_cache, pages.clear_page_cache):
        clear()


@pytest.fixture
def cast(db: None) -> Cast:
    return make_cast()


@pytest.fixture
def django_app() -> CountingDjango:
    return CountingDjango()


@pytest.fixture
def app(django_app: CountingDjango) -> RecognisedPagesInFront:
    return RecognisedPagesInFront(django_app)


def get(app: Any, cast: Cast, query: str, **extra: Any) -> tuple[str, list, bytes]:
    extra = {"HTTP_USER_AGENT": BROWSER, "REMOTE_ADDR": "203.0.113.7", **extra}
    return call_with_header_list(app, f"/sign/{cast.petition.slug}/", query, **extra)


def member_query(cast: Cast, person: Any) -> str:
    return f"akid={cast.token(person)}&t=1"


def kept(app: RecognisedPagesInFront, django_app: CountingDjango, cast: Cast) -> int:
    """Two members' pages through Django, after which the headers are kept: the first
    fills the petition's cache on its way, the second is made from it."""
    get(app, cast, member_query(cast, cast.bob))
    get(app, cast, member_query(cast, cast.bob))
    assert django_app.calls == 2
    return django_app.calls


def comparable(answer: tuple[str, list, bytes]) -> tuple[str, list, bytes]:
    """The answer without what is new in each: cookies' values, the CSRF token, the stamp."""
    status, headers, body = answer
    shown = sorted(
        (name, value.split("=", 1)[0] + "=…;" + value.split(";", 1)[1])
        if name == "Set-Cookie"
        else (name, value)
        for name, value in headers
    )
    return status, shown, _PER_ANSWER.sub(rb"\1-\2", body)


def cookies(headers: list) -> dict[str, str]:
    found = [
        value.strip().split(";", 1)[0].split("=", 1) for n, value in headers if n == "Set-Cookie"
    ]
    return dict(found)


class TestRecognisedPagesInFront:
    def test_it_answers_a_member_as_django_does_without_asking_django(
        self, app: RecognisedPagesInFront, django_app: CountingDjango, cast: Cast
    ) -> None:
        calls = kept(app, django_app, cast)

        in_front = get(app, cast, member_query(cast, cast.dora))
        assert django_app.calls == calls
        by_django = get(django_app, cast, member_query(cast, cast.dora))

        assert in_front[0] == "200 OK"
        assert comparable(in_front) == comparable(by_django)
        body = in_front[2].decode()
        assert "Not Dora?" in body
        assert "Bob" not in body
        names = {name for name, _value in in_front[1]}
        for header in ("Content-Security-Policy", "X-Frame-Options", "Referrer-Policy"):
            assert header in names
        assert dict(in_front[1])["Cache-Control"] == "private, no-store"
        assert int(dict(in_front[1])["Content-Length"]) == len(in_front[2])
        assert set(cookies(in_front[1])) == {"csrftoken", "gs_member"}

    def test_a_visitor_with_a_csrf_cookie_keeps_it_as_with_django(
        self, app: RecognisedPagesInFront, django_app: CountingDjango, cast: Cast
    ) -> None:
        kept(app, django_app, cast)
        secret = "a" * 32
        with_cookie = {"HTTP_COOKIE": f"csrftoken={secret}"}

        in_front = get(app, cast, member_query(cast, cast.dora), **with_cookie)
        by_django = get(django_app, cast, member_query(cast, cast.dora), **with_cookie)

        assert django_app.calls == 3
        assert comparable(in_front) == comparable(by_django)
        # Sent again (Django's get_token() always does), with the same secret.
        assert cookies(in_front[1])["csrftoken"] == secret
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', in_front[2])
        assert token is not None
        assert _unmask_cipher_token(token[1].decode()) == secret

    def test_it_counts_each_click_once(
        self, app: RecognisedPagesInFront, django_app: CountingDjango, cast: Cast
    ) -> None:
        kept(app, django_app, cast)
        get(app, cast, member_query(cast, cast.dora))
        get(app, cast, member_query(cast, cast.bob))

        assert django_app.calls == 2
        flush_all()
        found = sorted((c.person_id, c.link_number) for c in Click.objects.all())
        assert found == sorted([(cast.bob.pk, 1)] * 3 + [(cast.dora.pk, 1)])

    @pytest.mark.parametrize(
        ("query", "extra"),
        [
            pytest.param("", {}, id="no token"),
            pytest.param("akid=not-a-token&t=1", {}, id="a token naming no one"),
            pytest.param("{member}&x=%00", {}, id="a NUL in the query"),
            pytest.param("{member}", {"REQUEST_METHOD": "HEAD"}, id="a HEAD"),
            pytest.param("{member}", {"HTTP_HOST": "127.0.0.1"}, id="another host"),
            pytest.param("{member}", {"wsgi.url_scheme": "https"}, id="another scheme"),
        ],
    )
    def test_it_leaves_anything_else_to_django(
        self,
        app: RecognisedPagesInFront,
        django_app: CountingDjango,
        cast: Cast,
        query: str,
        extra: dict[str, str],
    ) -> None:
        calls = kept(app, django_app, cast)
        method = extra.pop("REQUEST_METHOD", "GET")
        host = extra.pop("HTTP_HOST", "testserver")
        call_with_header_list(
            app,
            f"/sign/{cast.petition.slug}/",
            query.format(member=member_query(cast, cast.dora)),
            method=method,
            host=host,
            **extra,
        )

        assert django_app.calls == calls + 1

    def test_a_closed_petition_goes_through_django(
        self, app: RecognisedPagesInFront, django_app: CountingDjango, cast: Cast
    ) -> None:
        calls = kept(app, django_app, cast)
        pages.load_public_petition(cast.petition.slug).petition.status = PetitionStatus.CLOSED

        status, _headers, body = get(app, cast, member_query(cast, cast.dora))

        assert django_app.calls == calls + 1
        assert status == "200 OK"
        assert b"Not Dora?" not in body

    def test_when_a_read_fails_django_answers_503_and_no_click_is_counted(
        self,
        app: RecognisedPagesInFront,
        django_app: CountingDjango,
        cast: Cast,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        calls = kept(app, django_app, cast)
        flush_all()
        before = Click.objects.count()

        def away(*args: object) -> None:
            raise OperationalError("connection refused")

        monkeypatch.setattr(pages, "recent_signers", away)
        pages.clear_page_cache()
        status, _headers, body = get(app, cast, member_query(cast, cast.dora))

        assert django_app.calls == calls + 1
        assert status.startswith("503 ")
        assert b"Back in a moment" in body
        assert CLICKS.pending() == 0
        flush_all()
        assert Click.objects.count() == before
