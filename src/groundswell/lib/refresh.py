"""One thread at a time refreshes an expired entry of a process's own cache."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Hashable, Iterator


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
