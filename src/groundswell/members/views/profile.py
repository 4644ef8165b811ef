"""A member changes their details: the page an email's link opens asks for a link to
the address on file; that link opens the form; a change of address is confirmed from
the new address and can be stopped from the old one."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from groundswell.lib.addresses import normalise_email
from groundswell.members.actions.profile import (
    do_cancel_email_change,
    do_confirm_email_change,
    do_request_profile_link,
    do_update_own_profile,
)
from groundswell.members.emails import (
    EMAIL_CHANGE_CANCEL_MAX_AGE,
    EMAIL_CHANGE_CANCEL_SALT,
    EMAIL_CHANGE_MAX_AGE,
    EMAIL_CHANGE_SALT,
    PROFILE_EDIT_MAX_AGE,
    PROFILE_EDIT_SALT,
)
from groundswell.members.forms import ProfileForm
from groundswell.members.models import Person
from groundswell.members.views.links import answers_previews, opens_emailed_link, person_for_token
from groundswell.members.views.replies import (
    count_email_request,
    link_expired,
    notice,
    too_many,
    too_many_sentence,
    with_retry_after,
)


@answers_previews
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest, token: str) -> HttpResponse:
    """From an email's "change your email or mailing address": a member link only
    recognises, so changing details starts with a link to the address on file."""
    person = person_for_token(token)
    if request.method == "POST":
        over = count_email_request(request, person.email_normalised)
        if over is not None:
            return too_many(request, over)
        do_request_profile_link(person)
        return notice(
            request,
            _("Check your email"),
            _(
                "We have sent a link to the address we have for you. Open it to change "
                "your details. It works for one day."
            ),
        )
    return render(request, "members/profile_start.html", {"person": person, "token": token})


@require_http_methods(["GET", "POST"])
@opens_emailed_link(salt=PROFILE_EDIT_SALT, max_age=PROFILE_EDIT_MAX_AGE, unspent=True)
def profile_edit(request: HttpRequest, person: Person, value: dict) -> HttpResponse:
    form = ProfileForm(request.POST or None)
    status = 200
    over = None
    if request.method == "POST":
        if form.is_valid() and form.cleaned_data["new_email"]:
            over = count_email_request(request, normalise_email(form.cleaned_data["new_email"]))
            if over is not None:
                form.add_error("new_email", too_many_sentence(over))
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
    return response if over is None else with_retry_after(response, over)


@require_http_methods(["GET", "POST"])
@opens_emailed_link(salt=EMAIL_CHANGE_SALT, max_age=EMAIL_CHANGE_MAX_AGE, unspent=True)
def confirm_email(request: HttpRequest, person: Person, value: dict) -> HttpResponse:
    if request.method == "POST":
        do_confirm_email_change(person, value["e"])
        return notice(
            request, _("Email address changed"), _("We will use your new address from now on.")
        )
    return render(request, "members/confirm_email.html", {"new_email": value["e"]})


@require_http_methods(["GET", "POST"])
@opens_emailed_link(salt=EMAIL_CHANGE_CANCEL_SALT, max_age=EMAIL_CHANGE_CANCEL_MAX_AGE)
def cancel_email_change(request: HttpRequest, person: Person, value: dict) -> HttpResponse:
    """From the old address's notice: stop or undo a change of address."""
    if request.method == "POST":
        if do_cancel_email_change(person, value["o"], value["e"]):
            return notice(
                request,
                _("The change is stopped"),
                _("We use this address for you, as before. No one else can use the old link."),
            )
        return link_expired(request)
    return render(request, "members/cancel_email_change.html", {})
