"""The petition's count as JSON, answered from memory in front of Django.

`/sign/<slug>.json` is what a viral petition's visitors reload most (the field notes:
most of the UK Parliament's peak load was count requests). Its body depends only on
the petition's public record and its count snapshot, both of which this process
already keeps in memory (pages.load_public_petition, counter.petition_count). So
this WSGI middleware keeps, per petition, the last response Django gave together
with the two cached objects it was built from, and answers a GET with those same
bytes for as long as both caches still hold those same objects. When either has
moved on, or anything is unusual (another method, a Host header Django has not
accepted, a response that set a cookie), the request goes through Django as usual
and its answer is kept for the next ones. The bytes are Django's own; only the
work of producing them again is skipped.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from groundswell.lib.replayed import Answer, WSGIApp, answer_through
from groundswell.petitions.counter import cached_petition_count
from groundswell.petitions.pages import cached_public_petition

_PREFIX, _SUFFIX = "/sign/", ".json"
# Host header values Django accepted for a kept response; a few are plenty.
_MAX_HOSTS = 16


class CountJsonFromMemory:
    def __init__(self, app: WSGIApp) -> None:
        self.app = app
        self._kept: dict[str, Answer] = {}
        self._hosts: set[str] = set()
        self._lock = threading.Lock()

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if (
            environ.get("REQUEST_METHOD") != "GET"
            or not path.startswith(_PREFIX)
            or not path.endswith(_SUFFIX)
        ):
            return self.app(environ, start_response)
        slug = path[len(_PREFIX) : -len(_SUFFIX)]
        host = environ.get("HTTP_HOST", "")
        kept = self._kept.get(slug)
        if kept is not None and host in self._hosts:
            public, snapshot = _current(slug)
            if public is kept.basis[0] and snapshot is kept.basis[1]:
                return kept.replay(start_response)
        return self._through_django(slug, host, environ, start_response)

    def _through_django(
        self, slug: str, host: str, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        before = _current(slug)
        answer = answer_through(self.app, environ, start_response)
        public, snapshot = _current(slug)
        if (
            answer.status.startswith("200 ")
            and not answer.sets_cookie()
            and public is not None
            and snapshot is not None
            # The view read the caches between these two looks: the same objects both
            # times means it built its answer from them.
            and before[0] is public
            and before[1] is snapshot
        ):
            with self._lock:
                answer.basis = (public, snapshot)
                self._kept[slug] = answer
                if len(self._hosts) < _MAX_HOSTS:
                    self._hosts.add(host)
        return [answer.body]


def _current(slug: str) -> tuple[Any, Any]:
    public = cached_public_petition(slug)
    if public is None:
        return None, None
    return public, cached_petition_count(public.petition)
