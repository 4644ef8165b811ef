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
def empty_buffers_and_caches(settings) -> Iterator[None]:
    # Long enough that the background thread never writes during a test unless asked.
    settings.TRACKING_FLUSH_SECONDS = 3600
    for clear in CLEARS:
        clear()
    yield
    for clear in CLEARS:
        clear()


@pytest.fixture
def cast(db: None) -> Cast:
    return make_cast()
