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
    person_stamp,
)
from groundswell.members.forms import ProfileForm
from groundswell.members.models import Person
from groundswell.members.views.links import answers_previews, person_for_token, read_emailed_link
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


def _unspent_link(signed: str, *, salt: str, max_age: int) -> tuple[Person, dict] | None:
    """The person and values of an unexpired link that is not spent: used, cancelled
    from the old address, or overtaken by another change, a link's stamp no longer
    matches its person."""
    found = read_emailed_link(signed, salt=salt, max_age=max_age)
    if found is None or found[1].get("s") != person_stamp(found[0]):
        return None
    return found


@require_http_methods(["GET", "POST"])
def profile_edit(request: HttpRequest, signed: str) -> HttpResponse:
    found = _unspent_link(signed, salt=PROFILE_EDIT_SALT, max_age=PROFILE_EDIT_MAX_AGE)
    if found is None:
        return link_expired(request)
    person = found[0]
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
def confirm_email(request: HttpRequest, signed: str) -> HttpResponse:
    found = _unspent_link(signed, salt=EMAIL_CHANGE_SALT, max_age=EMAIL_CHANGE_MAX_AGE)
    if found is None:
        return link_expired(request)
    person, value = found
    if request.method == "POST":
        do_confirm_email_change(person, value["e"])
        return notice(
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
        return link_expired(request)
    person, value = found
    if request.method == "POST":
        if do_cancel_email_change(person, value["o"], value["e"]):
            return notice(
                request,
                _("The change is stopped"),
                _("We use this address for you, as before. No one else can use the old link."),
            )
        return link_expired(request)
    return render(request, "members/cancel_email_change.html", {})
