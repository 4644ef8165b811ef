from __future__ import annotations

from collections.abc import Iterator

import pytest

from groundswell.petitions.counter import clear_process_cache
from groundswell.petitions.pages import clear_page_cache
from groundswell.tracking.links import clear_link_cache
from tests.tracking.cast import Cast, make_cast

# The buffers themselves are emptied around every test, and written only by hand
# (tests/conftest.py).
CLEARS = (clear_link_cache, clear_process_cache, clear_page_cache)


@pytest.fixture(autouse=True)
def empty_caches() -> Iterator[None]:
    for clear in CLEARS:
        clear()
    yield
    for clear in CLEARS:
        clear()


@pytest.fixture
def cast(db: None) -> Cast:
    return make_cast()
