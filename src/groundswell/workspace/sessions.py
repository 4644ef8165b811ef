"""Staff sessions: Django's database sessions, with the renewal a read makes waiting
for no one.

SESSION_SAVE_EVERY_REQUEST renews a signed-in person's session on every page they
load (the idle timeout), so every staff GET writes a row. On SQLite that write
waits in turn with the other writers (lib/turns.py); when it is only a renewal and
another writer holds the database, it is skipped: the session is renewed by the
next page instead, and a page never fails or stalls for it. Signing in, signing
out and anything that changes a session's data are written as usual.
"""

from __future__ import annotations

from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import OperationalError

from groundswell.lib.turns import is_busy, turn_if_free, writers_take_turns


class SessionStore(DatabaseSessionStore):
    def save(self, must_create: bool = False) -> None:
        if must_create or self.modified:
            with writers_take_turns():
                super().save(must_create=must_create)
            return
        with turn_if_free() as free:
            if not free:
                return
            try:
                super().save()
            except UpdateError as error:
                # Django's name for any failed update; only "busy" is ours to skip.
                cause = error.__context__
                if not isinstance(cause, OperationalError) or not is_busy(cause):
                    raise
