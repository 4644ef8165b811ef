"""Unique clickers in an A/B sample, counted by the app that keeps the clicks.

Clicks are tracking's, and tracking sits above mailings: it hands its counter over
as it starts (tracking/apps.py) instead of mailings reaching up for its models.
Without one, an A/B test on clicks is decided on actions (signatures) instead.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import QuerySet

# (mailing id, a query of the sample's person ids) -> how many of them clicked
ClickCounter = Callable[[int, QuerySet], int]

_counter: ClickCounter | None = None


def register_click_counter(counter: ClickCounter) -> None:
    global _counter
    _counter = counter


def unique_clickers(mailing_id: int, people: QuerySet) -> int | None:
    """How many of these people clicked, or None when no app counts clicks."""
    return None if _counter is None else _counter(mailing_id, people)
