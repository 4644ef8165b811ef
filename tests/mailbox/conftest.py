"""The mail viewer is mounted only in the demo (GROUNDSWELL_DEMO): these tests mount it
as the demo does, and put the ordinary URL map back afterwards."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import clear_url_caches

import groundswell.urls


def mount_urls(settings: Any, *, demo: bool) -> None:
    settings.DEMO_MODE = demo
    importlib.reload(groundswell.urls)
    clear_url_caches()


@pytest.fixture
def demo_urls(settings: Any) -> Iterator[None]:
    mount_urls(settings, demo=True)
    yield
    mount_urls(settings, demo=False)
