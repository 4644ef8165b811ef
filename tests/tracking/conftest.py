from __future__ import annotations

from collections.abc import Iterator

import pytest

from groundswell.petitions.counter import clear_process_cache
from groundswell.petitions.pages import clear_page_cache
from groundswell.tracking.links import clear_link_cache
from groundswell.tracking.recording import CLICKS, OPENS
from tests.tracking.cast import Cast, make_cast

CLEARS = (CLICKS.clear, OPENS.clear, clear_link_cache, clear_process_cache, clear_page_cache)


@pytest.fixture(autouse=True)
def empty_buffers_and_caches(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # Tests write buffered events with flush_all(). A flusher thread started by an
    # earlier test, still waiting out its interval, must not write them mid-test
    # through its own connection, where no rollback undoes them.
    for buffer in (CLICKS, OPENS):
        monkeypatch.setattr(buffer, "background_flushes", False)
    for clear in CLEARS:
        clear()
    yield
    for clear in CLEARS:
        clear()


@pytest.fixture
def cast(db: None) -> Cast:
    return make_cast()
