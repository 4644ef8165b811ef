"""Tracked links answered in front of Django (tracking/fastpath.py): the same redirect
as the view's, and the same click recorded, without Django's work for each one."""

from __future__ import annotations

from ipaddress import ip_network
from typing import Any

import pytest

from groundswell.mailings.models import MailingStatus
from groundswell.tracking.fastpath import TrackedLinksFromMemory
from groundswell.tracking.links import clear_link_cache
from groundswell.tracking.models import Click
from groundswell.tracking.recording import flush_all
from tests.tracking.cast import Cast
from tests.wsgi import CountingDjango, call

# Transactional: Django closes its connection at the end of each request it answers.
pytestmark = pytest.mark.django_db(transaction=True)

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126 Safari/537.36"


@pytest.fixture
def django_app() -> CountingDjango:
    clear_link_cache()
    return CountingDjango()


@pytest.fixture
def app(django_app: CountingDjango) -> TrackedLinksFromMemory:
    return TrackedLinksFromMemory(django_app)


def get(app: TrackedLinksFromMemory, path: str, query: str = "", **extra: Any) -> Any:
    """A browser's request from 203.0.113.7."""
    extra = {"HTTP_USER_AGENT": BROWSER, "REMOTE_ADDR": "203.0.113.7", **extra}
    return call(app, path, query, **extra)


def kept(app: TrackedLinksFromMemory, django_app: CountingDjango, path: str) -> int:
    """Two requests, after which the link's answer is kept; Django's count of calls."""
    get(app, path)
    get(app, path)
    return django_app.calls


def clicks() -> list[tuple[int, int | None, str | None, str]]:
    flush_all()
    found = [
        (c.link_number, c.person_id, c.ip_address, c.machine_reason) for c in Click.objects.all()
    ]
    return sorted(found, key=repr)


class TestTrackedLinksFromMemory:
    def test_it_answers_with_djangos_own_redirect_without_asking_django(
        self, app: TrackedLinksFromMemory, django_app: CountingDjango, cast: Cast
    ) -> None:
        path = f"/go/{cast.mailing.pk}/2/"
        # The first request fills the link cache on its way through Django; the second
        # is answered from it and kept; the third is answered from memory.
        first = get(app, path, f"akid={cast.token(cast.bob)}")
        second = get(app, path, f"akid={cast.token(cast.dora)}")
        third = get(app, path, f"akid={cast.token(cast.bob)}")

        assert django_app.calls == 2
        assert first == second == third
        status, headers, _body = third
        assert status.startswith("302 ")
        assert headers["Location"] == "https://news.example.com/2018/06/contract"
        assert headers["Cache-Control"] == "private, no-store"
        assert headers["Referrer-Policy"] == "no-referrer"
        assert "Set-Cookie" not in headers

    def test_every_click_is_recorded_as_the_view_records_it(
        self, app: TrackedLinksFromMemory, django_app: CountingDjango, cast: Cast
    ) -> None:
        path = f"/go/{cast.mailing.pk}/2/"
        for person in (cast.bob, cast.dora, cast.bob, cast.bob):
            get(app, path, f"akid={cast.token(person)}")
        get(app, path)

        assert django_app.calls == 2
        # Each click is kept (reports count recipients once); without a token, for no one.
        assert clicks() == sorted(
            [(2, person, "203.0.113.7", "") for person in (cast.bob.pk, cast.dora.pk)]
            + [(2, cast.bob.pk, "203.0.113.7", "")] * 2
            + [(2, None, "203.0.113.7", "")],
            key=repr,
        )

    def test_a_click_from_memory_is_the_same_as_one_through_django(
        self, app: TrackedLinksFromMemory, django_app: CountingDjango, cast: Cast, settings: Any
    ) -> None:
        settings.TRUSTED_PROXIES = [ip_network("127.0.0.1/32")]
        path = f"/go/{cast.mailing.pk}/1/"
        proxied = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "198.51.100.4"}
        get(app, path, f"akid={cast.token(cast.bob)}", **proxied)
        get(app, path, f"akid={cast.token(cast.bob)}", **proxied)
        get(app, path, f"t=1&akid={cast.token(cast.dora)}", **proxied)

        assert django_app.calls == 2
        assert clicks() == sorted(
            [(1, cast.bob.pk, "198.51.100.4", "")] * 2 + [(1, cast.dora.pk, "198.51.100.4", "")],
            key=repr,
        )

    def test_a_token_for_another_mailing_or_tampered_names_no_one(
        self, app: TrackedLinksFromMemory, cast: Cast
    ) -> None:
        path = f"/go/{cast.mailing.pk}/3/"
        get(app, path)
        get(app, path)
        token = cast.token(cast.bob)
        get(app, path, f"akid={token[:-1]}{'A' if token[-1] != 'A' else 'B'}")

        assert {person for _n, person, _ip, _r in clicks()} == {None}

    def test_a_link_checker_s_head_goes_through_django_and_is_marked(
        self, app: TrackedLinksFromMemory, django_app: CountingDjango, cast: Cast
    ) -> None:
        path = f"/go/{cast.mailing.pk}/2/"
        calls = kept(app, django_app, path)

        get(app, path, f"akid={cast.token(cast.bob)}", method="HEAD")

        assert django_app.calls == calls + 1
        assert (2, cast.bob.pk, "203.0.113.7", "scanner") in clicks()

    def test_it_leaves_another_host_or_scheme_and_a_nul_byte_to_django(
        self, app: TrackedLinksFromMemory, django_app: CountingDjango, cast: Cast
    ) -> None:
        path = f"/go/{cast.mailing.pk}/2/"
        calls = kept(app, django_app, path)

        refused = get(app, path, host="evil.example.net")
        https = get(app, path, **{"wsgi.url_scheme": "https"})
        nul = get(app, path, "akid=%00")

        assert django_app.calls == calls + 3
        assert refused[0].startswith("400 ")
        assert https[0].startswith("302 ")
        assert nul[0].startswith("400 ")

    def test_it_keeps_nothing_for_a_draft_or_an_unknown_link(
        self, app: TrackedLinksFromMemory, django_app: CountingDjango, cast: Cast
    ) -> None:
        cast.mailing.status = MailingStatus.DRAFT
        cast.mailing.save()
        for _ in range(3):
            assert get(app, f"/go/{cast.mailing.pk}/2/")[0].startswith("404 ")
            assert get(app, f"/go/{cast.mailing.pk}/9/")[0].startswith("404 ")

        assert django_app.calls == 6
        assert clicks() == []

    def test_it_asks_django_again_once_the_link_cache_has_moved_on(
        self, app: TrackedLinksFromMemory, django_app: CountingDjango, cast: Cast
    ) -> None:
        path = f"/go/{cast.mailing.pk}/2/"
        get(app, path)
        get(app, path)
        cast.links[1].url = "https://news.example.com/corrected"
        cast.links[1].save()
        clear_link_cache()

        _status, headers, _body = get(app, path)

        assert django_app.calls == 3
        assert headers["Location"] == "https://news.example.com/corrected"

    def test_it_passes_every_other_request_to_django(
        self, app: TrackedLinksFromMemory, django_app: CountingDjango, cast: Cast
    ) -> None:
        for path in ("/go/1/", "/go/x/2/", "/healthz", f"/go/{cast.mailing.pk}/2/extra/"):
            get(app, path)
            get(app, path)

        assert django_app.calls == 8
