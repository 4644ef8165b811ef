"""lib/refresh.py and the process caches that use it: one thread reads afresh."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from groundswell.lib.refresh import OneRefresher
from groundswell.petitions import pages
from groundswell.petitions.pages import clear_page_cache, load_public_petition
from tests.petitions.conftest import make_org, make_petition


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


@pytest.mark.django_db(transaction=True)
def test_while_one_thread_reads_the_petition_afresh_the_others_use_the_one_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clear_page_cache()
    make_petition(sponsors=[make_org("Open Press", "open-press")])
    kept = load_public_petition("cancel-the-contract")
    monkeypatch.setattr(pages, "PETITION_CACHE_SECONDS", 0.0)  # every entry has expired
    reading, release = threading.Event(), threading.Event()
    read_afresh = pages._read_public_petition
    outcome: dict[str, Any] = {}

    def slow_read(slug: str, now: float) -> pages.PublicPetition:
        reading.set()
        release.wait(10)
        return read_afresh(slug, now)

    monkeypatch.setattr(pages, "_read_public_petition", slow_read)

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
    monkeypatch.setattr(pages, "_read_public_petition", read_afresh)
    assert load_public_petition("cancel-the-contract") is not outcome["fresh"]
    clear_page_cache()
