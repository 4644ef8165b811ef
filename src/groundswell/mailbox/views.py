"""The staff mailbox: read what the demo's mail catcher caught."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar, cast

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.clickjacking import xframe_options_sameorigin

from groundswell.mailbox import store

PER_PAGE = 50

# The caught HTML runs in a sandbox with nothing allowed but its own inline styles:
# no scripts, no forms, and no remote images unless staff ask (a remote image can
# be a tracking pixel, which would count staff reading a test email as an open).
HTML_CSP = (
    "sandbox allow-popups allow-popups-to-escape-sandbox; "
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
)
HTML_CSP_WITH_IMAGES = HTML_CSP.replace("img-src data:", "img-src data: http: https:")
# Inside the frame a followed link would load into the frame, where our own pages refuse
# to be shown (X-Frame-Options): every link opens a tab of its own instead, as in a mail
# program, outside the sandbox (allow-popups-to-escape-sandbox).
LINKS_IN_NEW_TABS = '<base target="_blank">'
HEAD_TAG = re.compile(r"<head(\s[^>]*)?>", re.IGNORECASE)


View = TypeVar("View", bound=Callable[..., HttpResponse])


def administrators_only(view: View) -> View:
    """The caught mail holds members' links: only installation administrators read it.
    Visitors go to the staff sign-in; anyone else signed in gets 404."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not (request.user.is_active and request.user.is_superuser):
            raise Http404
        return view(request, *args, **kwargs)

    return cast(View, wrapper)


def _page(request: HttpRequest) -> dict[str, object]:
    # The admin's app sidebar has nothing to do with the mailbox and narrows the email.
    return {**admin.site.each_context(request), "is_nav_sidebar_enabled": False}


def links_in_new_tabs(html: str) -> str:
    head = HEAD_TAG.search(html)
    if head is None:
        return LINKS_IN_NEW_TABS + html
    return html[: head.end()] + LINKS_IN_NEW_TABS + html[head.end() :]


@administrators_only
def message_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(store.message_names(), PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "mailbox/message_list.html",
        {
            **_page(request),
            "page": page,
            "messages_on_page": [store.summary(name) for name in page.object_list],
            "mail_dir": store.mail_dir(),
        },
    )


@administrators_only
def message_detail(request: HttpRequest, name: str) -> HttpResponse:
    path = _path_or_404(name)
    message = store.read_message(path)
    return render(
        request,
        "mailbox/message_detail.html",
        {
            **_page(request),
            "summary": store.summary(name),
            "headers": [(key, str(value)) for key, value in message.items()],
            "text": store.body_text(message, "plain"),
            "has_html": store.body_text(message, "html") is not None,
            "show_images": request.GET.get("images") == "1",
        },
    )


@administrators_only
@xframe_options_sameorigin
def message_html(request: HttpRequest, name: str) -> HttpResponse:
    html = store.body_text(store.read_message(_path_or_404(name)), "html")
    if html is None:
        raise Http404
    response = HttpResponse(links_in_new_tabs(html), content_type="text/html; charset=utf-8")
    images = request.GET.get("images") == "1"
    response["Content-Security-Policy"] = HTML_CSP_WITH_IMAGES if images else HTML_CSP
    response["Referrer-Policy"] = "no-referrer"
    return response


@administrators_only
def message_raw(request: HttpRequest, name: str) -> HttpResponse:
    response = HttpResponse(
        _path_or_404(name).read_bytes(), content_type="text/plain; charset=utf-8"
    )
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


def _path_or_404(name: str) -> Path:
    path = store.path_for(name)
    if path is None:
        raise Http404
    return path
