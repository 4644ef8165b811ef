"""Tracked links (`/go/<mailing>/<n>/`) answered in front of Django while nothing the
answer depends on has changed.

In the minutes after a big send most requests are members following a link
(docs/performance.md, the click wave). The answer is the same redirect for everyone
who follows that link: only the click recorded with it differs. So, as for the
count JSON (petitions/fastpath.py), this WSGI middleware keeps the last answer
Django gave for each link together with the link-cache entry it was built from
(tracking/links.py), and while that same entry is still the cache's, answers a GET
with those same bytes and records the click exactly as the view does
(recording.record_link_click: the same buffer and flush, every click kept, the
reports counting each recipient once). Anything unusual goes through Django as usual: another method
(a HEAD is a link checker, marked as one by the view), a Host or scheme Django has
not answered for this link, a NUL byte in the query, a draft's link (shown only to
staff), an answer that set a cookie. Sessions, CSRF and sign-in have nothing to do
with a redirect to a stored address; the response count (/metrics) still counts it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote_plus

from groundswell.lib.metrics import HTTP_RESPONSES
from groundswell.lib.replayed import Answer, WSGIApp, answer_through, request_facets
from groundswell.tracking.links import cached_link
from groundswell.tracking.recording import record_link_click

# Links kept at most: one for each link followed lately, few in practice.
MAX_KEPT = 10_000

# Digits as the URL pattern takes them, short enough to be a stored id (links.py
# refuses bigger ones; those go through Django and get its 404).
_GO = re.compile(r"/go/([0-9]{1,18})/([0-9]{1,9})/\Z")


def _member_token(query: str) -> str | None:
    """The `akid` parameter as Django's request.GET.get gives it: the last one."""
    token = None
    for part in query.split("&"):
        if part.startswith("akid="):
            token = part[5:]
    if token is not None and ("%" in token or "+" in token):
        token = unquote_plus(token)
    return token


class TrackedLinksFromMemory:
    def __init__(self, app: WSGIApp) -> None:
        self.app = app
        self._kept: dict[tuple[int, int], Answer] = {}
        self._lock = threading.Lock()

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if not path.startswith("/go/") or environ.get("REQUEST_METHOD") != "GET":
            return self.app(environ, start_response)
        match = _GO.match(path)
        query = environ.get("QUERY_STRING", "")
        if match is None or "%00" in query or "\x00" in query:
            return self.app(environ, start_response)
        link = (int(match[1]), int(match[2]))
        kept = self._kept.get(link)
        if (
            kept is not None
            and kept.basis[1] == request_facets(environ)
            and cached_link(*link) is kept.basis[0]
        ):
            record_link_click(environ, link[0], link[1], _member_token(query))
            HTTP_RESPONSES.labels("302").inc()
            return kept.replay(start_response)
        return self._through_django(link, environ, start_response)

    def _through_django(
        self, link: tuple[int, int], environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        before = cached_link(*link)
        answer = answer_through(self.app, environ, start_response)
        after = cached_link(*link)
        if (
            answer.status.startswith("302 ")
            and not answer.sets_cookie()
            # The view found the link in the cache, sent (not a draft's, which has no
            # entry with a destination), and redirected to it.
            and after is not None
            and after is before
            and after[1] is not None
            and answer.header("Location") == after[1]
        ):
            with self._lock:
                if len(self._kept) >= MAX_KEPT:
                    self._kept.clear()
                answer.basis = (after, request_facets(environ))
                self._kept[link] = answer
        return [answer.body]
