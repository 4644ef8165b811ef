"""Reports are read from tracked clicks and opens: the same cast and clean caches as there
(tests/conftest.py empties the buffers for every test)."""

from tests.tracking.conftest import cast, empty_caches

__all__ = ["cast", "empty_caches"]
