"""A person asks for a copy of their data or for its erasure: the request form emails
a link to the address, and the link's page does it."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from groundswell.lib.csvsafe import csv_text
from groundswell.lib.downloads import attachment, json_attachment
from groundswell.members.actions.privacy import (
    do_erase_person,
    do_record_export,
    do_request_privacy_link,
    export_rows,
)
from groundswell.members.actions.profile import email_changed_recently
from groundswell.members.emails import PRIVACY_MAX_AGE, PRIVACY_SALT
from groundswell.members.forms import PrivacyRequestForm
from groundswell.members.models import Person
from groundswell.members.views.links import opens_emailed_link
from groundswell.members.views.replies import (
    count_email_request,
    notice,
    too_many_sentence,
    with_retry_after,
)


@require_http_methods(["GET", "POST"])
def privacy(request: HttpRequest) -> HttpResponse:
    form = PrivacyRequestForm(request.POST or None)
    if request.method == "POST":
        over = count_email_request(request, form.cleaned_data["email"]) if form.is_valid() else None
        if over is not None:
            form.add_error("email", too_many_sentence(over))
            response = render(request, "members/privacy.html", {"form": form}, status=429)
            return with_retry_after(response, over)
        if form.is_valid():
            do_request_privacy_link(form.cleaned_data["email"], form.cleaned_data["kind"])
            # The same answer whether or not we know the address.
            return notice(
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
@opens_emailed_link(salt=PRIVACY_SALT, max_age=PRIVACY_MAX_AGE)
def privacy_confirm(request: HttpRequest, person: Person, value: dict) -> HttpResponse:
    kind = value["k"]
    if request.method == "POST":
        if kind == "erase":
            do_erase_person(person, actor="self")
            return notice(
                request,
                _("Your data is erased"),
                _("We hold nothing that names you any more, and we will not email you again."),
            )
        if email_changed_recently(person) is not None:
            return notice(
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
