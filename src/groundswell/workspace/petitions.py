"""Writing petitions in the workspace: the editor (new and edit), the preview at phone
and desktop width, and publishing, closing and reopening. Writing needs the write
permission in the lead sponsor; everything goes through petitions' actions."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from groundswell.lib.forms import AccessibleErrorsMixin
from groundswell.mailings.actions.compose import do_create_mailing
from groundswell.orgs.access import (
    Permission,
    actor,
    can,
    is_administrator,
    organisation_ids,
    staff_required,
)
from groundswell.orgs.models import Organisation
from groundswell.petitions.actions.editing import do_create_petition, do_update_petition
from groundswell.petitions.actions.lifecycle import (
    do_close_petition,
    do_draft_petition,
    do_open_petition,
)
from groundswell.petitions.actions.switches import do_switch_signing
from groundswell.petitions.actions.updates import do_post_update
from groundswell.petitions.models import Petition
from groundswell.petitions.pages import render_staff_preview
from groundswell.workspace import scope
from groundswell.workspace.petition_forms import PetitionForm


def choosable(user: Any) -> QuerySet[Organisation]:
    """The organisations this user may make sponsors."""
    if is_administrator(user):
        return Organisation.objects.order_by("name")
    return Organisation.objects.filter(pk__in=organisation_ids(user, Permission.WRITE)).order_by(
        "name"
    )


def editable(request: HttpRequest, slug: str) -> Petition:
    """The petition, if the user may change it: the write permission in its lead sponsor."""
    petition = scope.petition(request.user, slug)
    if not can(request.user, petition.lead_sponsor_id(), Permission.WRITE):
        raise Http404
    return petition


def _form(request: HttpRequest, petition: Petition | None) -> PetitionForm:
    orgs = choosable(request.user)
    kept = (
        [
            s.organisation
            for s in petition.sponsorships.select_related("organisation").order_by("position")
            if not orgs.filter(pk=s.organisation_id).exists()
        ]
        if petition is not None
        else []
    )
    return PetitionForm(request.POST or None, instance=petition, choosable=orgs, kept=kept)


@staff_required
@require_http_methods(["GET", "POST"])
def petition_new(request: HttpRequest) -> HttpResponse:
    if not choosable(request.user).exists():
        raise Http404
    form = _form(request, None)
    if request.method == "POST" and form.is_valid():
        petition = do_create_petition(actor(request), form.values(), form.sponsors())
        return redirect("workspace:petition-edit", slug=petition.slug)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "workspace/petition_edit.html", {"form": form, "petition": None}, status=status
    )


@staff_required
@require_http_methods(["GET", "POST"])
def petition_edit(request: HttpRequest, slug: str) -> HttpResponse:
    petition = editable(request, slug)
    form = _form(request, petition)
    saved = request.GET.get("saved") == "1"
    if request.method == "POST":
        if form.is_valid():
            petition = do_update_petition(actor(request), petition, form.values(), form.sponsors())
            return redirect(f"/staff/petitions/{petition.slug}/edit/?saved=1")
        petition.refresh_from_db()
    return render(
        request,
        "workspace/petition_edit.html",
        {
            "form": form,
            "petition": petition,
            "saved": saved,
            "posted": request.GET.get("posted") == "1",
            "kept": form.kept,
            "update_form": UpdateForm(),
            "updates": petition.updates.all(),
        },
        status=400 if request.method == "POST" else 200,
    )


@staff_required
@require_GET
@xframe_options_sameorigin
def petition_preview(request: HttpRequest, slug: str) -> HttpResponse:
    """The page as the public will see it, drafts included; it takes no signatures."""
    petition = scope.petition(request.user, slug)
    response = HttpResponse(render_staff_preview(request, petition))
    response["Cache-Control"] = "private, no-store"
    return response


STATUS_ACTIONS = {
    "open": do_open_petition,
    "close": do_close_petition,
    "draft": do_draft_petition,
}


@staff_required
@require_POST
def petition_status(request: HttpRequest, slug: str) -> HttpResponse:
    petition = editable(request, slug)
    action = STATUS_ACTIONS.get(request.POST.get("action", ""))
    if action is None:
        return HttpResponse("Choose open, close or draft.", status=400, content_type="text/plain")
    action(petition, actor=actor(request))
    return redirect("workspace:petition-edit", slug=petition.slug)


@staff_required
@require_POST
def petition_signing(request: HttpRequest, slug: str) -> HttpResponse:
    """The signing kill switch for this petition (`groundswell signing off|on SLUG`)."""
    petition = editable(request, slug)
    state = request.POST.get("signing", "")
    if state not in ("off", "on"):
        return HttpResponse("Choose off or on.", status=400, content_type="text/plain")
    do_switch_signing([petition], on=state == "on", actor=actor(request))
    return redirect("workspace:petition", slug=petition.slug)


class UpdateForm(AccessibleErrorsMixin, forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    body = forms.CharField(
        label=gettext_lazy("Update"),
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=gettext_lazy("Markdown, as in the background."),
        max_length=20_000,
    )


@staff_required
@require_POST
def petition_update(request: HttpRequest, slug: str) -> HttpResponse:
    """Post news on the petition's page."""
    petition = editable(request, slug)
    form = UpdateForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "workspace/petition_edit.html",
            {
                "form": _form(request, petition),
                "petition": petition,
                "update_form": form,
                "updates": petition.updates.all(),
            },
            status=400,
        )
    do_post_update(
        actor(request),
        petition,
        title=form.cleaned_data["title"],
        body=form.cleaned_data["body"],
    )
    return redirect(f"/staff/petitions/{petition.slug}/edit/?posted=1#updates")


@staff_required
@require_POST
def petition_update_mailing(request: HttpRequest, slug: str, update_id: int) -> HttpResponse:
    """A draft mailing of the update from the lead sponsor, to those of its members who
    signed: reviewed, tested and sent on the mailing pages as any other."""
    petition = editable(request, slug)
    update = petition.updates.filter(pk=update_id).first()
    if update is None:
        raise Http404
    lead = petition.sponsors.order_by("sponsorships__position").first()
    if lead is None:
        raise Http404
    members = lead.default_list
    mailing = do_create_mailing(
        by=request.user,
        organisation=lead,
        from_name=lead.sender_name,
        from_email=lead.sender_email,
        subject=update.title,
        body=f"{update.body}\n\n[{_('Read the petition')}]({{{{ petition_url }}}})",
        petition=petition,
        only_signers_of=petition,
        include_lists=[members] if members else [],
    )
    return redirect("mailings:edit", mailing_id=mailing.pk)
