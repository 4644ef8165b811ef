"""One thread at a time refreshes an expired entry of a process's own cache."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Hashable, Iterator
from typing import Generic, TypeVar


class OneRefresher:
    """For caches kept in a process's memory for a few seconds (the petition, its count,
    its recent signers), read by every request thread. When an entry expires under
    load, all of a process's threads find it expired at once, and each would read it
    afresh: sixteen identical queries, each maybe opening a database connection. With
    this, the first thread reads it; the others keep using the entry they found, a
    moment older, until it has. With nothing to fall back on, every thread reads.

        with refresher.turn(key) as mine:
            if not mine and old is not None:
                return old
            ...read afresh...
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._busy: set[Hashable] = set()

    @contextlib.contextmanager
    def turn(self, key: Hashable) -> Iterator[bool]:
        """Whether this thread is the one refreshing `key` (no other is, now)."""
        with self._lock:
            mine = key not in self._busy
            self._busy.add(key)
        try:
            yield mine
        finally:
            if mine:
                with self._lock:
                    self._busy.discard(key)


K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class ProcessCache(Generic[K, V]):
    """Values this process keeps for a few seconds, each read afresh by one thread when
    it expires (OneRefresher) while the process's other threads keep using the old one.

    `seconds` is asked at each look-up, so settings changed by a test apply at once. A
    value is stamped with the time its look-up began, so a slow read does not make it
    look newer than it is. A read that raises stores nothing.
    """

    def __init__(self, seconds: Callable[[], float]) -> None:
        self._seconds = seconds
        self._entries: dict[K, tuple[float, V]] = {}
        self._lock = threading.Lock()
        self._refresher = OneRefresher()

    def get(self, key: K, read: Callable[[], V]) -> V:
        now = time.monotonic()
        hit = self._entries.get(key)
        if hit is not None and now - hit[0] < self._seconds():
            return hit[1]
        with self._refresher.turn(key) as mine:
            if not mine and hit is not None:
                return hit[1]  # another thread is reading it afresh
            value = read()
            with self._lock:
                self._entries[key] = (now, value)
            return value

    def peek(self, key: K) -> V | None:
        """The value get() would return now without reading, if there is one."""
        hit = self._entries.get(key)
        if hit is not None and time.monotonic() - hit[0] < self._seconds():
            return hit[1]
        return None

    def last(self, key: K) -> V | None:
        """The value last read, however old (for a page to show while the database
        is away)."""
        hit = self._entries.get(key)
        return None if hit is None else hit[1]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
