"""The hostile-input tests: counts exact, as for the petition tests; the mail viewer
mounted as the demo mounts it, as for the mailbox tests."""

from __future__ import annotations

from tests.mailbox.conftest import demo_urls
from tests.petitions.conftest import exact_counts

__all__ = ["demo_urls", "exact_counts"]
