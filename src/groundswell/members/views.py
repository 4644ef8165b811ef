from __future__ import annotations

from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from groundswell.lib.clients import client_address
from groundswell.lib.csvsafe import csv_text
from groundswell.lib.downloads import attachment, json_attachment
from groundswell.lib.tokens import MemberToken, read_member_token
from groundswell.members.actions.consent import (
    UnsubscribeScope,
    do_renew_consent,
    do_unsubscribe_from_link,
    do_update_subscriptions,
)
from groundswell.members.actions.privacy import (
    do_erase_person,
    do_record_export,
    do_request_privacy_link,
    export_rows,
)
from groundswell.members.actions.profile import do_change_email, do_update_own_profile
from groundswell.members.emails import (
    EMAIL_CHANGE_MAX_AGE,
    EMAIL_CHANGE_SALT,
    PRIVACY_MAX_AGE,
    PRIVACY_SALT,
    RENEWAL_MAX_AGE,
    RENEWAL_SALT,
)
from groundswell.members.forms import PrivacyRequestForm, ProfileForm
from groundswell.members.mail_sources import email_source
from groundswell.members.models import Person
from groundswell.orgs.models import MailingList, Organisation

ONE_CLICK_BODY = "List-Unsubscribe=One-Click"
SUBSCRIPTIONS_WORDING = _(
    "I want to keep receiving emails from the lists ticked above. I can unsubscribe at any time."
)


def member_for_token(token: str) -> tuple[Person, MemberToken]:
    """The person a member token names, and the token read; 404 alike for malformed,
    tampered or unknown."""
    member = read_member_token(token)
    if member is None:
        raise Http404
    person = Person.objects.filter(pk=member.person_id).first()
    if person is None:
        raise Http404
    return person, member


def person_for_token(token: str) -> Person:
    return member_for_token(token)[0]


def _subscriptions(person: Person) -> list:
    return list(
        person.subscriptions.select_related("mailing_list__organisation").order_by(
            "mailing_list__organisation__name", "mailing_list__name"
        )
    )


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


@require_http_methods(["GET", "POST"])
def subscriptions(request: HttpRequest, token: str) -> HttpResponse:
    person = person_for_token(token)
    saved = False
    if request.method == "POST":
        wanted = {int(v) for v in request.POST.getlist("lists") if v.isdigit()}
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
def profile(request: HttpRequest, token: str) -> HttpResponse:
    person = person_for_token(token)
    form = ProfileForm(request.POST or None)
    done: list[str] = []
    email_sent = False
    status = 200
    if request.method == "POST":
        if form.is_valid():
            changes = {k: v for k, v in form.cleaned_data.items() if k != "new_email" and v}
            result = do_update_own_profile(
                person, changes, new_email=form.cleaned_data["new_email"] or "", actor="self"
            )
            done, email_sent = result.changed, result.email_change_requested
            form = ProfileForm()
        else:
            status = 400
    return render(
        request,
        "members/profile.html",
        {
            "person": person,
            "token": token,
            "form": form,
            "changed": done,
            "email_sent": email_sent,
            "has_address": bool(person.address),
        },
        status=status,
    )


def _notice(request: HttpRequest, title: str, message: str) -> HttpResponse:
    """One panel telling the member what has just happened."""
    return render(request, "members/notice.html", {"title": title, "message": message})


def read_emailed_link(signed: str, *, salt: str, max_age: int) -> tuple[Person, dict] | None:
    """The person and values an emailed confirmation link carries, if it is ours,
    unexpired, and its person still exists."""
    try:
        value = signing.loads(signed, salt=salt, max_age=max_age)
    except signing.BadSignature:
        return None
    person = Person.objects.filter(pk=value["p"]).first()
    return (person, value) if person is not None else None


@require_http_methods(["GET", "POST"])
def confirm_email(request: HttpRequest, signed: str) -> HttpResponse:
    found = read_emailed_link(signed, salt=EMAIL_CHANGE_SALT, max_age=EMAIL_CHANGE_MAX_AGE)
    if found is None:
        return render(request, "members/link_expired.html", status=404)
    person, value = found
    if request.method == "POST":
        do_change_email(person, value["e"], actor="self")
        return _notice(
            request, _("Email address changed"), _("We will use your new address from now on.")
        )
    return render(request, "members/confirm_email.html", {"new_email": value["e"]})


RENEWAL_WORDING = _(
    "Yes, I want to hear from %(organisation)s again. I can unsubscribe at any time."
)


@require_http_methods(["GET", "POST"])
def welcome_back(request: HttpRequest, signed: str) -> HttpResponse:
    """The button of the "hear from <organisation> again?" email: a fresh consent from
    the address itself, which a signature typed by anyone could not give."""
    found = read_emailed_link(signed, salt=RENEWAL_SALT, max_age=RENEWAL_MAX_AGE)
    if found is None:
        return render(request, "members/link_expired.html", status=404)
    person, value = found
    lists = list(
        MailingList.objects.filter(pk__in=value["l"])
        .select_related("organisation")
        .order_by("name")
    )
    if not lists:
        return render(request, "members/link_expired.html", status=404)
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
        return _notice(
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


@require_http_methods(["GET", "POST"])
def privacy(request: HttpRequest) -> HttpResponse:
    form = PrivacyRequestForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            do_request_privacy_link(form.cleaned_data["email"], form.cleaned_data["kind"])
            # The same answer whether or not we know the address.
            return _notice(
                request,
                _("Check your email"),
                _(
                    "If we hold data about that address, we have sent it a link. "
                    "The link works for one day."
                ),
            )
        return render(request, "members/privacy.html", {"form": form}, status=400)
    return render(request, "members/privacy.html", {"form": form})


@require_http_methods(["GET", "POST"])
def privacy_confirm(request: HttpRequest, signed: str) -> HttpResponse:
    found = read_emailed_link(signed, salt=PRIVACY_SALT, max_age=PRIVACY_MAX_AGE)
    if found is None:
        return render(request, "members/link_expired.html", status=404)
    person, value = found
    kind = value["k"]
    if request.method == "POST":
        if kind == "erase":
            do_erase_person(person, actor="self")
            return _notice(
                request,
                _("Your data is erased"),
                _("We hold nothing that names you any more, and we will not email you again."),
            )
        data = do_record_export(person, actor="self")
        if request.POST.get("format") == "csv":
            return attachment(
                csv_text(export_rows(data)),
                content_type="text/csv; charset=utf-8",
                filename="my-data.csv",
            )
        return json_attachment(data, filename="my-data.json")
    return render(request, "members/privacy_confirm.html", {"kind": kind})
