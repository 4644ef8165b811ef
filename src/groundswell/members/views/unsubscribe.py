"""The unsubscribe link in every email: its page, and RFC 8058's one-click POST."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from groundswell.lib.clients import client_address
from groundswell.members.actions.consent import UnsubscribeScope, do_unsubscribe_from_link
from groundswell.members.mail_sources import email_source
from groundswell.members.models import Person
from groundswell.members.views.links import answers_previews, member_for_token
from groundswell.orgs.models import Organisation

ONE_CLICK_BODY = "List-Unsubscribe=One-Click"


def _choices(person: Person, mailing_id: int) -> dict[str, object]:
    """What the unsubscribe pages name: the organisation the email came from and the
    lists it was sent to that the person is on (none known for a link from no mailing)."""
    found = email_source(mailing_id)
    if found is None:
        return {"organisation": None, "lists": []}
    mine = person.subscriptions.filter(mailing_list__organisation_id=found.organisation_id)
    return {
        "organisation": Organisation.objects.filter(pk=found.organisation_id).first(),
        "lists": [
            s.mailing_list
            for s in mine.select_related("mailing_list").order_by("mailing_list__name")
            if s.mailing_list_id in found.list_ids and s.is_subscribed
        ],
    }


@answers_previews
@csrf_exempt  # The token in the URL is the authority; RFC 8058 posts carry no cookies.
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    person, member = member_for_token(token)
    if request.method == "POST":
        one_click = request.body.strip() == ONE_CLICK_BODY.encode()
        try:
            scope = UnsubscribeScope(request.POST.get("scope", "") or UnsubscribeScope.LISTS)
        except ValueError:
            return HttpResponse(
                _("Choose what to unsubscribe from."),
                status=400,
                content_type="text/plain; charset=utf-8",
            )
        before = _choices(person, member.mailing_id)
        changed = do_unsubscribe_from_link(
            person,
            mailing_id=member.mailing_id,
            scope=UnsubscribeScope.LISTS if one_click else scope,
            source="one-click" if one_click else "unsubscribe-page",
            ip_address=client_address(request),
        )
        if one_click:
            return HttpResponse(
                _("You are unsubscribed."), content_type="text/plain; charset=utf-8"
            )
        return render(
            request,
            "members/unsubscribed.html",
            {
                "token": token,
                "scope": scope if before["organisation"] else UnsubscribeScope.EVERYWHERE,
                "left": sorted({s.mailing_list.name for s in changed}),
                **before,
            },
        )
    return render(
        request,
        "members/unsubscribe.html",
        {"token": token, **_choices(person, member.mailing_id)},
    )
