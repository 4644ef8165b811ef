from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.conf import settings
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from groundswell.lib.addresses import normalise_email
from groundswell.lib.clients import client_address, network_of
from groundswell.lib.csvsafe import csv_text
from groundswell.lib.downloads import attachment, json_attachment
from groundswell.lib.numbers import MAX_STORED_BIGINT, bounded_int
from groundswell.lib.tokens import PREVIEW_TOKEN, MemberToken, read_member_token
from groundswell.limits.actions import OverLimit, do_count_request
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
from groundswell.members.actions.profile import (
    do_cancel_email_change,
    do_confirm_email_change,
    do_request_profile_link,
    do_update_own_profile,
    email_changed_recently,
)
from groundswell.members.emails import (
    EMAIL_CHANGE_CANCEL_MAX_AGE,
    EMAIL_CHANGE_CANCEL_SALT,
    EMAIL_CHANGE_MAX_AGE,
    EMAIL_CHANGE_SALT,
    PRIVACY_MAX_AGE,
    PRIVACY_SALT,
    PROFILE_EDIT_MAX_AGE,
    PROFILE_EDIT_SALT,
    RENEWAL_MAX_AGE,
    RENEWAL_SALT,
    person_stamp,
)
from groundswell.members.forms import PrivacyRequestForm, ProfileForm
from groundswell.members.mail_sources import email_source
from groundswell.members.models import Person
from groundswell.orgs.models import MailingList, Organisation

ONE_CLICK_BODY = "List-Unsubscribe=One-Click"
SUBSCRIPTIONS_WORDING = _(
    "I want to keep receiving emails from the lists ticked above. I can unsubscribe at any time."
)


View = TypeVar("View", bound=Callable[..., HttpResponse])


def answers_previews(view: View) -> View:
    """A member page reached from a staff preview or test copy (PREVIEW_TOKEN): say so,
    and act for no one."""

    @wraps(view)
    def wrapper(request: HttpRequest, token: str, *args: Any, **kwargs: Any) -> HttpResponse:
        if token == PREVIEW_TOKEN:
            return _notice(
                request,
                _("This is a preview"),
                _(
                    "This link came from a staff preview or test copy. In a member's "
                    "own copy it opens their page; here it changes nothing."
                ),
            )
        return view(request, token, *args, **kwargs)

    return cast(View, wrapper)


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


@answers_previews
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest, token: str) -> HttpResponse:
    """From an email's "change your email or mailing address": a member link only
    recognises, so changing details starts with a link to the address on file."""
    person = person_for_token(token)
    if request.method == "POST":
        over = _count_email_request(request, person.email_normalised)
        if over is not None:
            return _too_many(request, over)
        do_request_profile_link(person)
        return _notice(
            request,
            _("Check your email"),
            _(
                "We have sent a link to the address we have for you. Open it to change "
                "your details. It works for one day."
            ),
        )
    return render(request, "members/profile_start.html", {"person": person, "token": token})


def _edit_link(signed: str) -> Person | None:
    """The person an unused, unexpired profile link is for."""
    found = read_emailed_link(signed, salt=PROFILE_EDIT_SALT, max_age=PROFILE_EDIT_MAX_AGE)
    if found is None or found[1].get("s") != person_stamp(found[0]):
        return None
    return found[0]


@require_http_methods(["GET", "POST"])
def profile_edit(request: HttpRequest, signed: str) -> HttpResponse:
    person = _edit_link(signed)
    if person is None:
        return render(request, "members/link_expired.html", status=404)
    form = ProfileForm(request.POST or None)
    status = 200
    over = None
    if request.method == "POST":
        if form.is_valid() and form.cleaned_data["new_email"]:
            over = _count_email_request(request, normalise_email(form.cleaned_data["new_email"]))
            if over is not None:
                form.add_error("new_email", _too_many_sentence(over))
        if form.is_valid():
            changes = {k: v for k, v in form.cleaned_data.items() if k != "new_email" and v}
            result = do_update_own_profile(
                person, changes, new_email=form.cleaned_data["new_email"] or "", actor="self"
            )
            return render(
                request,
                "members/profile_saved.html",
                {"changed": result.changed, "email_sent": result.email_change_requested},
            )
        status = 400 if over is None else 429
    response = render(
        request,
        "members/profile.html",
        {"person": person, "form": form, "has_address": bool(person.address)},
        status=status,
    )
    if over is not None:
        response["Retry-After"] = str(over.retry_after_seconds(timezone.now()))
    return response


def _count_email_request(request: HttpRequest, address: str) -> OverLimit | None:
    """A form that emails `address` is used once more: None, or until when it may not be
    (EMAIL_REQUEST_LIMITS, per client network and per address; docs/security.md). The
    same whether or not we know the address, so the answer tells nothing."""
    return do_count_request(
        "email-request",
        {"network": network_of(client_address(request)), "address": address},
        settings.EMAIL_REQUEST_LIMITS,
    )


def _too_many_sentence(over: OverLimit) -> str:
    minutes = max(1, -(-over.retry_after_seconds(timezone.now()) // 60))
    return ngettext(
        "We have sent several emails for this lately. Please try again in %(n)s minute.",
        "We have sent several emails for this lately. Please try again in %(n)s minutes.",
        minutes,
    ) % {"n": minutes}


def _too_many(request: HttpRequest, over: OverLimit) -> HttpResponse:
    response = render(
        request,
        "members/notice.html",
        {"title": _("Please wait a little"), "message": _too_many_sentence(over)},
        status=429,
    )
    response["Retry-After"] = str(over.retry_after_seconds(timezone.now()))
    return response


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
    # Used, cancelled from the old address, or overtaken by another change: spent.
    if found is None or found[1].get("s") != person_stamp(found[0]):
        return render(request, "members/link_expired.html", status=404)
    person, value = found
    if request.method == "POST":
        do_confirm_email_change(person, value["e"])
        return _notice(
            request, _("Email address changed"), _("We will use your new address from now on.")
        )
    return render(request, "members/confirm_email.html", {"new_email": value["e"]})


@require_http_methods(["GET", "POST"])
def cancel_email_change(request: HttpRequest, signed: str) -> HttpResponse:
    """From the old address's notice: stop or undo a change of address."""
    found = read_emailed_link(
        signed, salt=EMAIL_CHANGE_CANCEL_SALT, max_age=EMAIL_CHANGE_CANCEL_MAX_AGE
    )
    if found is None:
        return render(request, "members/link_expired.html", status=404)
    person, value = found
    if request.method == "POST":
        if do_cancel_email_change(person, value["o"], value["e"]):
            return _notice(
                request,
                _("The change is stopped"),
                _("We use this address for you, as before. No one else can use the old link."),
            )
        return render(request, "members/link_expired.html", status=404)
    return render(request, "members/cancel_email_change.html", {})


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
        over = (
            _count_email_request(request, form.cleaned_data["email"]) if form.is_valid() else None
        )
        if over is not None:
            form.add_error("email", _too_many_sentence(over))
            response = render(request, "members/privacy.html", {"form": form}, status=429)
            response["Retry-After"] = str(over.retry_after_seconds(timezone.now()))
            return response
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
        if email_changed_recently(person) is not None:
            return _notice(
                request,
                _("Not yet"),
                _(
                    "Your email address changed less than two weeks ago. To keep your data "
                    "safe, we send no copy to a new address before then."
                ),
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
