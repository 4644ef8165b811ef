"""lib/refresh.py and the process caches that use it: one thread reads afresh."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from groundswell.lib import refresh
from groundswell.lib.refresh import OneRefresher, ProcessCache
from groundswell.petitions import pages
from groundswell.petitions.pages import clear_page_cache, load_public_petition
from tests.cast import make_org, make_petition


def test_it_gives_the_turn_to_one_thread_at_a_time_per_key() -> None:
    refresher = OneRefresher()
    with (
        refresher.turn("a") as first,
        refresher.turn("a") as second,
        refresher.turn("b") as other_key,
    ):
        assert (first, second, other_key) == (True, False, True)
    with refresher.turn("a") as after:
        assert after  # free again once the first is done


def test_it_frees_the_turn_when_the_refresh_fails() -> None:
    refresher = OneRefresher()
    with pytest.raises(RuntimeError), refresher.turn("a"):
        raise RuntimeError("the database went away")
    with refresher.turn("a") as mine:
        assert mine


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(refresh.time, "monotonic", fake)
    return fake


class TestProcessCache:
    def test_it_reads_a_value_once_and_keeps_it_for_its_seconds(self, clock: FakeClock) -> None:
        cache: ProcessCache[str, int] = ProcessCache(lambda: 5.0)
        reads = iter(range(1, 100))

        first = cache.get("a", lambda: next(reads))
        clock.now += 4.9
        kept = cache.get("a", lambda: next(reads))
        clock.now += 0.1
        fresh = cache.get("a", lambda: next(reads))

        assert (first, kept, fresh) == (1, 1, 2)
        assert cache.get("b", lambda: next(reads)) == 3  # each key its own

    def test_it_dates_a_value_from_when_its_look_up_began(self, clock: FakeClock) -> None:
        cache: ProcessCache[str, str] = ProcessCache(lambda: 5.0)

        def slow_read() -> str:
            clock.now += 3.0  # the query took three seconds
            return "read at 100"

        cache.get("a", slow_read)
        clock.now = 105.0

        # Read at 100 and five seconds old now, however long the read took.
        assert cache.peek("a") is None
        assert cache.get("a", lambda: "read at 105") == "read at 105"

    def test_it_asks_for_its_seconds_at_each_look_up(self, clock: FakeClock) -> None:
        seconds = [60.0]
        cache: ProcessCache[str, str] = ProcessCache(lambda: seconds[0])
        cache.get("a", lambda: "old")
        clock.now += 1.0

        seconds[0] = 0.5  # as a test's settings override would

        assert cache.get("a", lambda: "new") == "new"

    def test_it_keeps_nothing_when_the_read_fails(self, clock: FakeClock) -> None:
        cache: ProcessCache[str, str] = ProcessCache(lambda: 5.0)

        def failing() -> str:
            raise LookupError("no such petition")

        with pytest.raises(LookupError):
            cache.get("a", failing)

        assert cache.peek("a") is None
        assert cache.get("a", lambda: "there now") == "there now"

    def test_it_peeks_without_reading_and_forgets_on_clear(self, clock: FakeClock) -> None:
        cache: ProcessCache[str, str] = ProcessCache(lambda: 5.0)
        assert cache.peek("a") is None
        cache.get("a", lambda: "value")

        assert cache.peek("a") == "value"
        cache.clear()
        assert cache.peek("a") is None


@pytest.mark.django_db(transaction=True)
def test_while_one_thread_reads_the_petition_afresh_the_others_use_the_one_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clear_page_cache()
    make_petition(sponsors=[make_org("Open Press", "open-press")])
    kept = load_public_petition("cancel-the-contract")
    monkeypatch.setattr(pages, "PETITION_CACHE_SECONDS", 0.0)  # every entry has expired
    reading, release = threading.Event(), threading.Event()
    read_afresh = pages.read_public_petition
    outcome: dict[str, Any] = {}

    def slow_read(slug: str) -> pages.PublicPetition:
        reading.set()
        release.wait(10)
        return read_afresh(slug)

    monkeypatch.setattr(pages, "read_public_petition", slow_read)

    def refresh() -> None:
        try:
            outcome["fresh"] = load_public_petition("cancel-the-contract")
        finally:
            connection.close()

    thread = threading.Thread(target=refresh)
    thread.start()
    try:
        assert reading.wait(10)
        with CaptureQueriesContext(connection) as queries:
            meanwhile = load_public_petition("cancel-the-contract")
        assert meanwhile is kept
        assert len(queries) == 0
    finally:
        release.set()
        thread.join(10)
    assert outcome["fresh"] is not kept
    assert outcome["fresh"].petition.pk == kept.petition.pk
    # The turn is free again: the next read of an expired entry is this thread's own.
    monkeypatch.setattr(pages, "read_public_petition", read_afresh)
    assert load_public_petition("cancel-the-contract") is not outcome["fresh"]
    clear_page_cache()
