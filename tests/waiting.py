"""Waiting for something to happen in another thread or process, with a deadline.

Tests never sleep a fixed time hoping the thing has happened by then: they ask, often,
until it has or the deadline passes, and then fail saying what never happened.
"""

from __future__ import annotations

import time
from collections.abc import Callable

# Often enough that a test waits hardly longer than the event takes; rarely enough
# that the asking does not slow down the thread it waits for.
POLL_SECONDS = 0.01


def wait_until(
    predicate: Callable[[], object], timeout: float = 10.0, message: str = "the condition"
) -> None:
    """Return as soon as `predicate()` is true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {message}")
        time.sleep(POLL_SECONDS)
