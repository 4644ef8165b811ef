"""Reports are read from tracked clicks and opens: the same cast and clean buffers."""

from tests.tracking.conftest import cast, empty_buffers_and_caches

__all__ = ["cast", "empty_buffers_and_caches"]
