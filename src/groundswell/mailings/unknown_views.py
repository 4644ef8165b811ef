"""The staff page of a mailing's copies in doubt (their worker stopped mid hand-over),
and the decisions about them: count them as sent, or send them again."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import ngettext_lazy
from django.views.decorators.http import require_GET, require_POST

from groundswell.mailings.actions.unknown import (
    DECIDED_AGAIN,
    DECIDED_SENT,
    do_mark_unknown_sent,
    do_send_unknown_again,
)
from groundswell.mailings.forms import UnknownDecisionForm
from groundswell.mailings.models import Mailing, MailingRecipient, MailingStatus
from groundswell.mailings.views import _mailing, _page, _powers, unknown_copies
from groundswell.members.models import AuditEntry
from groundswell.orgs.access import Permission, staff_required

UNKNOWN_PER_PAGE = 100
COUNTED_SENT = ngettext_lazy(
    "%(count)d recipient now counts as sent.", "%(count)d recipients now count as sent.", "count"
)
QUEUED_AGAIN = ngettext_lazy(
    "%(count)d recipient is queued to be sent again.",
    "%(count)d recipients are queued to be sent again.",
    "count",
)


@staff_required
@require_GET
def mailing_unknown(request: HttpRequest, mailing_id: int) -> HttpResponse:
    """The copies in doubt (their worker stopped mid hand-over), and what staff decided."""
    mailing = _mailing(request, mailing_id, Permission.PEOPLE)
    unknown = unknown_copies(mailing).select_related("person").order_by("claimed_at", "pk")
    page = Paginator(unknown, UNKNOWN_PER_PAGE).get_page(request.GET.get("page"))
    decisions = list(
        AuditEntry.objects.filter(
            action__in=(DECIDED_SENT, DECIDED_AGAIN),
            details__mailing=mailing.pk,
        ).order_by("-created_at", "-pk")[:100]
    )
    addresses = dict(
        MailingRecipient.objects.filter(
            pk__in=[entry.details.get("recipient") for entry in decisions]
        ).values_list("pk", "email")
    )
    context = {
        "mailing": mailing,
        "title": _("Unknown recipients"),
        "page": page,
        "total": page.paginator.count,
        "decisions": [
            {
                "entry": entry,
                "is_sent": entry.action == DECIDED_SENT,
                "email": addresses.get(entry.details.get("recipient"), ""),
            }
            for entry in decisions
        ],
        "can_send_again": mailing.status != MailingStatus.CANCELLED,
        **_powers(request, mailing),
    }
    return _page(request, "mailings/staff_unknown.html", context)


def _decide(
    request: HttpRequest, mailing_id: int, action: Callable[..., int], done: Promise
) -> int:
    """Run a decision about unknown recipients and say how many it covered (0 when
    refused). `done` is an ngettext_lazy message counting them as %(count)d."""
    mailing = _mailing(request, mailing_id, Permission.WRITE)
    form = UnknownDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose one recipient, or all of them."))
        return 0
    try:
        count = action(mailing, **form.action_arguments(), by=request.user)
    except ValueError as error:
        messages.error(request, str(error))
        return 0
    if count:
        messages.success(request, done % {"count": count})
    return count


@staff_required
@require_POST
def mailing_unknown_sent(request: HttpRequest, mailing_id: int) -> HttpResponse:
    _decide(request, mailing_id, do_mark_unknown_sent, COUNTED_SENT)
    return redirect("mailings:unknown", mailing_id=mailing_id)


@staff_required
@require_POST
def mailing_unknown_again(request: HttpRequest, mailing_id: int) -> HttpResponse:
    count = _decide(request, mailing_id, do_send_unknown_again, QUEUED_AGAIN)
    if count and Mailing.objects.filter(pk=mailing_id, status=MailingStatus.PAUSED).exists():
        messages.info(request, _("The send is paused: they go out when you resume it."))
    return redirect("mailings:unknown", mailing_id=mailing_id)
