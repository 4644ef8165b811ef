"""The count JSON answered from memory in front of Django (petitions/fastpath.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from groundswell.petitions.actions.signing import SignatureDetails, do_sign_petition
from groundswell.petitions.counter import clear_process_cache
from groundswell.petitions.fastpath import CountJsonFromMemory
from groundswell.petitions.models import Petition
from groundswell.petitions.pages import clear_page_cache
from tests.cast import make_petition
from tests.wsgi import CountingDjango, call


def get(
    app: CountJsonFromMemory, path: str, *, method: str = "GET", host: str = "testserver"
) -> tuple[str, dict[str, str], bytes]:
    return call(app, path, method=method, host=host)


def warm_up(app: CountJsonFromMemory) -> None:
    """Two requests: after them the answer is kept in memory."""
    get(app, "/sign/cancel-the-contract.json")
    get(app, "/sign/cancel-the-contract.json")


@pytest.fixture
def django_app() -> CountingDjango:
    return CountingDjango()


@pytest.fixture
def app(django_app: CountingDjango) -> CountJsonFromMemory:
    return CountJsonFromMemory(django_app)


@pytest.mark.django_db(transaction=True)
class TestCountJsonFromMemory:
    def test_it_answers_again_with_djangos_own_bytes_without_asking_django(
        self, petition: Petition, app: CountJsonFromMemory, django_app: CountingDjango
    ) -> None:
        # The first request fills the process's caches on its way through Django; the
        # second is built from them and kept; the third is answered from memory.
        first = get(app, "/sign/cancel-the-contract.json")
        second = get(app, "/sign/cancel-the-contract.json")
        third = get(app, "/sign/cancel-the-contract.json")

        assert first[0] == "200 OK"
        assert second == first == third
        assert json.loads(first[2])["slug"] == "cancel-the-contract"
        assert first[1]["Cache-Control"] == "public, max-age=5, stale-while-revalidate=10"
        assert django_app.calls == 2

    def test_it_asks_django_again_once_the_count_has_moved_on(
        self,
        petition: Petition,
        app: CountJsonFromMemory,
        django_app: CountingDjango,
        settings: Any,
    ) -> None:
        settings.COUNT_REFRESH_SECONDS = 0
        warm_up(app)
        do_sign_petition(
            petition, SignatureDetails(email="dana@example.org", first_name="Dana", last_name="B")
        )
        clear_process_cache()  # as when the process's 2-second copy of the count expires

        status, _, body = get(app, "/sign/cancel-the-contract.json")

        assert status == "200 OK"
        assert json.loads(body)["signature_count"] == 1
        assert django_app.calls == 3

    def test_it_asks_django_again_once_the_petition_has_changed(
        self, petition: Petition, app: CountJsonFromMemory, django_app: CountingDjango
    ) -> None:
        warm_up(app)
        Petition.objects.filter(pk=petition.pk).update(status="closed")
        clear_page_cache()  # as when the process's 5-second copy of the petition expires

        _, _, body = get(app, "/sign/cancel-the-contract.json")

        assert json.loads(body)["status"] == "closed"
        assert django_app.calls == 3

    def test_it_leaves_a_host_django_refuses_to_django(
        self, petition: Petition, app: CountJsonFromMemory, django_app: CountingDjango
    ) -> None:
        warm_up(app)

        status, _, _ = get(app, "/sign/cancel-the-contract.json", host="evil.example")

        assert status.startswith("400")
        assert django_app.calls == 3

    def test_it_keeps_nothing_for_a_draft_or_an_unknown_slug(
        self, open_press: Any, app: CountJsonFromMemory, django_app: CountingDjango
    ) -> None:
        make_petition("still-a-draft", sponsors=[open_press], status="draft")

        for _ in range(2):
            assert get(app, "/sign/still-a-draft.json")[0].startswith("404")
            assert get(app, "/sign/no-such-petition.json")[0].startswith("404")

        assert django_app.calls == 4

    def test_it_passes_every_other_request_to_django(
        self, petition: Petition, app: CountJsonFromMemory, django_app: CountingDjango
    ) -> None:
        warm_up(app)

        assert get(app, "/sign/cancel-the-contract.json", method="HEAD")[0].startswith("405")
        assert get(app, "/sign/cancel-the-contract/")[0] == "200 OK"
        assert get(app, "/sign/cancel-the-contract.json", method="POST")[0].startswith(
            "403"
        )  # CSRF
        assert django_app.calls == 5
