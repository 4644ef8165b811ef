"""Two petition pages answered in front of Django: the count JSON from memory, and a
recognised member's page without the middleware (RecognisedPagesInFront, below).

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

import logging
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any

from django.core import signals
from django.core.handlers.wsgi import WSGIHandler, WSGIRequest
from django.http import HttpResponse
from django.middleware.csrf import CsrfViewMiddleware

from groundswell.lib.logs import start_request
from groundswell.lib.metrics import HTTP_RESPONSES
from groundswell.lib.replayed import Answer, WSGIApp, answer_through, request_facets
from groundswell.members.recognition import COOKIE as RECOGNISED_COOKIE
from groundswell.members.recognition import recognise
from groundswell.petitions.counter import cached_petition_count
from groundswell.petitions.models import PetitionStatus
from groundswell.petitions.pages import PublicPetition, cached_public_petition
from groundswell.petitions.views import GREETED_BY, recognised_page

logger = logging.getLogger(__name__)

_PREFIX, _SUFFIX = "/sign/", ".json"
# Host header values Django accepted for a kept response; a few are plenty.
_MAX_HOSTS = 16
# Member pages' kept headers: one a petition, Host and scheme.
_MAX_KEPT_PAGES = 1_000


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


# The petition page's path as its URL pattern takes the slug (<slug:slug>).
_PAGE = re.compile(r"/sign/([-a-zA-Z0-9_]+)/\Z")
# Headers of a kept answer that each fast answer gives anew: its own cookies, length
# and Vary (CsrfViewMiddleware adds "Vary: Cookie" only when it sets the cookie), and
# whatever the view's response sets itself.
_ANSWERED_ANEW = {"set-cookie", "content-length", "vary"}


class RecognisedPagesInFront:
    """The petition page of a member who follows their link (`?akid=`), answered in
    front of Django's middleware: the page the click wave after a send asks for most
    (docs/performance.md). The view's own code makes it (views.recognised_page: the
    member read, the click, the cookie), with Django's CSRF middleware for the form's
    token and cookie; the headers the other middleware add (security headers, frame
    options) are those of the last answer Django gave for this petition, Host and
    scheme, kept while the petition's cache still holds the same object. Anything else
    goes through Django: another method, a page without a token, a token that names
    nobody, a closed petition, a NUL in the query, a read that fails (Django then
    answers it, its 503 included)."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app
        self._kept: dict[tuple[str, tuple[str, str, str]], Answer] = {}
        self._lock = threading.Lock()
        self._csrf = CsrfViewMiddleware(_never_called)

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        query = environ.get("QUERY_STRING", "")
        if (
            environ.get("REQUEST_METHOD") != "GET"
            or "akid=" not in query
            or "%00" in query
            or "\x00" in query
        ):
            return self.app(environ, start_response)
        match = _PAGE.match(environ.get("PATH_INFO", ""))
        if match is None:
            return self.app(environ, start_response)
        slug, facets = match[1], request_facets(environ)
        kept = self._kept.get((slug, facets))
        public = cached_public_petition(slug)
        if kept is not None and public is not None and public is kept.basis[0]:
            answered = self._answer(public, kept, environ, start_response)
            if answered is not None:
                return answered
        return self._through_django(slug, facets, environ, start_response)

    def _answer(
        self,
        public: PublicPetition,
        kept: Answer,
        environ: dict[str, Any],
        start_response: Callable[..., Any],
    ) -> HttpResponse | None:
        if public.petition.status != PetitionStatus.OPEN:
            return None
        # As Django's WSGIHandler does: the signals open and close the request (the
        # database connection's age and health, the log's request id), and the
        # response's close() sends request_finished.
        signals.request_started.send(sender=WSGIHandler, environ=environ)
        request = WSGIRequest(environ)
        start_request(request.headers.get("X-Request-ID"))
        try:
            member = recognise(
                request,
                request.GET.get("akid"),
                [o.pk for o in public.sponsors],
                only=GREETED_BY,
            )
            response = None
            if member is not None and member.from_link:
                self._csrf.process_request(request)
                response = recognised_page(request, public, member)
                self._csrf.process_response(request, response)
        except Exception:
            # Django answers it, and says what went wrong as it does for any request;
            # nothing was written here (the click comes last).
            logger.debug("member page: answered by Django instead", exc_info=True)
            response = None
        if response is None:
            signals.request_finished.send(sender=WSGIHandler)
            return None
        response._handler_class = WSGIHandler  # type: ignore[attr-defined]
        mine = {name.lower() for name in response.headers}
        headers = [
            (name, value)
            for name, value in kept.headers
            if name.lower() not in _ANSWERED_ANEW and name.lower() not in mine
        ]
        headers += [*response.items(), ("Content-Length", str(len(response.content)))]
        headers += [("Set-Cookie", c.output(header="")) for c in response.cookies.values()]
        HTTP_RESPONSES.labels("200").inc()
        start_response(f"200 {response.reason_phrase}", headers)
        return response

    def _through_django(
        self,
        slug: str,
        facets: tuple[str, str, str],
        environ: dict[str, Any],
        start_response: Callable[..., Any],
    ) -> Iterable[bytes]:
        before = cached_public_petition(slug)
        answer = answer_through(self.app, environ, start_response)
        after = cached_public_petition(slug)
        if (
            answer.status.startswith("200 ")
            and after is not None
            and after is before
            # The view recognised the member (it remembers them in a cookie).
            and any(
                name.lower() == "set-cookie" and value.lstrip().startswith(f"{RECOGNISED_COOKIE}=")
                for name, value in answer.headers
            )
        ):
            with self._lock:
                if len(self._kept) >= _MAX_KEPT_PAGES:
                    self._kept.clear()
                # Only its headers are used again: the body was this member's.
                self._kept[(slug, facets)] = Answer(answer.status, answer.headers, b"", (after,))
        return [answer.body]


def _never_called(request: Any) -> Any:
    raise AssertionError("CsrfViewMiddleware is used here for its process_* methods only")
