"""Which lists an email came from. The app that sends mailings tells members (from its
apps.py), so that an unsubscribe link acts on those lists alone without members
importing that app."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class EmailSource:
    """The organisation an email was from, and the lists it was sent to."""

    organisation_id: int
    list_ids: frozenset[int]


Finder = Callable[[int], EmailSource | None]
_finders: list[Finder] = []


def register(finder: Finder) -> None:
    if finder not in _finders:
        _finders.append(finder)


def email_source(mailing_id: int) -> EmailSource | None:
    """Where the email with this mailing id came from; None for a link from no mailing
    (id 0) or from one that no longer exists."""
    if not mailing_id:
        return None
    for finder in _finders:
        found = finder(mailing_id)
        if found is not None:
            return found
    return None
