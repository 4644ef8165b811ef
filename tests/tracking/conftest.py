from __future__ import annotations

import os
import time
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
    # A flusher thread started by an earlier test may still be waiting out that test's
    # one-second interval: woken now, it flushes nothing (the buffers are empty) and
    # waits again with the interval above, instead of writing this test's events
    # through its own connection mid-test, where no rollback undoes them.
    # (Only a running thread is woken: one started later would take the wake-up as its
    # first flush.)
    running = [b for b in (CLICKS, OPENS) if b._thread_pid == os.getpid()]
    for buffer in running:
        buffer._wake.set()
    if running:
        time.sleep(0.1)
    yield
    for clear in CLEARS:
        clear()


@pytest.fixture
def cast(db: None) -> Cast:
    return make_cast()
