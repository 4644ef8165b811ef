"""Holes in rendered text: where a reader's own values go, and the site's address.

Rendering fills a mailing once for every reader and leaves a marked hole for each
value that differs per reader (token, address, merge fields); compiling turns the
holes into a format string.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.conf import settings

# Private-use characters mark the holes in rendered text: Markdown, nh3, Django's
# escaping and css-inline all pass them through untouched.
M_OPEN, M_CLOSE = "\ue000", "\ue001"
MARKER = re.compile(f"{M_OPEN}([A-Za-z0-9_]+){M_CLOSE}")
MERGE_URL = "https://merge.invalid/"


def mark(key: str) -> str:
    return f"{M_OPEN}{key}{M_CLOSE}"


def site_base() -> str:
    return str(settings.BASE_URL)


def site_host() -> str:
    return urlsplit(site_base()).hostname or "localhost"
