"""Which lists a member hears from: the subscriptions page behind every email's
link, and the "hear from <organisation> again?" email's button."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from groundswell.lib.clients import client_address
from groundswell.lib.numbers import MAX_STORED_BIGINT, bounded_int
from groundswell.members.actions.consent import do_renew_consent, do_update_subscriptions
from groundswell.members.emails import RENEWAL_MAX_AGE, RENEWAL_SALT
from groundswell.members.models import Person
from groundswell.members.views.links import answers_previews, opens_emailed_link, person_for_token
from groundswell.members.views.replies import link_expired, notice
from groundswell.orgs.models import MailingList

SUBSCRIPTIONS_WORDING = _(
    "I want to keep receiving emails from the lists ticked above. I can unsubscribe at any time."
)
RENEWAL_WORDING = _(
    "Yes, I want to hear from %(organisation)s again. I can unsubscribe at any time."
)


def _subscriptions(person: Person) -> list:
    return list(
        person.subscriptions.select_related("mailing_list__organisation").order_by(
            "mailing_list__organisation__name", "mailing_list__name"
        )
    )


@answers_previews
@require_http_methods(["GET", "POST"])
def subscriptions(request: HttpRequest, token: str) -> HttpResponse:
    person = person_for_token(token)
    saved = False
    if request.method == "POST":
        wanted = {
            n
            for v in request.POST.getlist("lists")
            if (n := bounded_int(v, MAX_STORED_BIGINT)) is not None
        }
        do_update_subscriptions(
            person,
            wanted,
            source="subscriptions-page",
            wording=str(SUBSCRIPTIONS_WORDING),
            ip_address=client_address(request),
        )
        saved = True
    return render(
        request,
        "members/subscriptions.html",
        {
            "person": person,
            "token": token,
            "subscriptions": _subscriptions(person),
            "saved": saved,
            "wording": SUBSCRIPTIONS_WORDING,
        },
    )


@require_http_methods(["GET", "POST"])
@opens_emailed_link(salt=RENEWAL_SALT, max_age=RENEWAL_MAX_AGE)
def welcome_back(request: HttpRequest, person: Person, value: dict) -> HttpResponse:
    """The button of the "hear from <organisation> again?" email: a fresh consent from
    the address itself, which a signature typed by anyone could not give."""
    lists = list(
        MailingList.objects.filter(pk__in=value["l"])
        .select_related("organisation")
        .order_by("name")
    )
    if not lists:
        return link_expired(request)
    organisation = lists[0].organisation
    wording = RENEWAL_WORDING % {"organisation": organisation.name}
    if request.method == "POST":
        do_renew_consent(
            person,
            lists,
            source="consent-renewal",
            wording=wording,
            ip_address=client_address(request),
        )
        return notice(
            request,
            _("Welcome back"),
            _("%(organisation)s may email you again. Every email has a link to stop.")
            % {"organisation": organisation.name},
        )
    return render(
        request,
        "members/welcome_back.html",
        {"organisation": organisation, "lists": lists, "wording": wording},
    )
