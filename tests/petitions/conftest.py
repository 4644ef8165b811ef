"""Petition tests: the cast's petition (tests/conftest.py) and the form Charlie the
stranger fills in. Every test starts with clean caches (tests/conftest.py)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from groundswell.petitions.defences import form_stamp
from groundswell.petitions.models import Petition


@pytest.fixture
def exact_counts(settings: Any) -> None:
    """Counts refreshed on every read, so a test sees each signature at once."""
    settings.COUNT_REFRESH_SECONDS = 0
    settings.COUNT_CACHE_SECONDS = 0


def shown_long_enough_ago() -> str:
    """The sign form's "shown at" stamp (petitions/defences.py) of a page shown a minute
    ago: what a person's browser sends, past the minimum time."""
    return form_stamp(time.time() - 60)


def sign_data(petition: Petition, **overrides: Any) -> dict[str, str]:
    """Charlie's form as his browser sends it, the page's stamp included (pass
    shown=None to leave it out)."""
    data = {
        "shown": shown_long_enough_ago(),
        "first_name": "Charlie",
        "last_name": "Stranger",
        "email": "charlie@example.org",
        "postal_code": "AB1 2CD",
        "country": "GB",
        "comment": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}
