"""An organisation's staff, managed by its owners (administrators manage every
organisation's): who holds which role, add someone, change or take away a role."""

from __future__ import annotations

import secrets
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from groundswell.lib.forms import AccessibleErrorsMixin
from groundswell.members.actions.staff import LastOwner, do_grant_role, do_remove_role
from groundswell.orgs.access import (
    Permission,
    actor,
    forget_roles,
    organisation_ids,
    require,
    staff_required,
)
from groundswell.orgs.models import Organisation, Role, StaffRole


class GrantForm(AccessibleErrorsMixin, forms.Form):
    username = forms.RegexField(
        label=gettext_lazy("Username"),
        max_length=150,
        regex=r"^[\w.@+-]+$",
        error_messages={"invalid": gettext_lazy("Use letters, digits and . @ + - _ only.")},
    )
    email = forms.EmailField(
        label=gettext_lazy("Email (for someone new)"), required=False, max_length=254
    )
    # Campaigner unless chosen otherwise: owner is the most power, and rarely meant.
    role = forms.ChoiceField(
        label=gettext_lazy("Role"), choices=Role.choices, initial=Role.CAMPAIGNER
    )


def _managed(user: Any) -> list[Organisation]:
    orgs = organisation_ids(user, Permission.MANAGE_STAFF)
    return list(Organisation.objects.filter(pk__in=orgs).order_by("name"))


def _organisation(request: HttpRequest, slug: str) -> Organisation:
    organisation = Organisation.objects.filter(slug=slug).first()
    if organisation is None:
        raise Http404
    require(request.user, organisation.pk, Permission.MANAGE_STAFF)
    return organisation


def _page(
    request: HttpRequest,
    *,
    form: GrantForm | None = None,
    form_for: int | None = None,
    status: int = 200,
    **extra: Any,
) -> HttpResponse:
    """The team page: each organisation the user manages, its staff, and a form to add
    someone (the one given, with its errors, for organisation `form_for`)."""
    organisations = _managed(request.user)
    if not organisations:
        raise Http404
    teams = []
    for org in organisations:
        roles = list(
            StaffRole.objects.filter(organisation=org)
            .select_related("user")
            .order_by("user__username")
        )
        owners = [role for role in roles if role.role == Role.OWNER]
        teams.append(
            {
                "organisation": org,
                "roles": roles,
                # The actions refuse to demote or remove the only owner (LastOwner), so
                # the page offers neither for them.
                "only_owner": owners[0] if len(owners) == 1 else None,
                "form": form if form is not None and form_for == org.pk else GrantForm(),
            }
        )
    return render(
        request,
        "workspace/team.html",
        {"teams": teams, "roles": Role.choices, **extra},
        status=status,
    )


@staff_required
@require_GET
def team(request: HttpRequest) -> HttpResponse:
    return _page(request)


@staff_required
@require_POST
def grant(request: HttpRequest, org_slug: str) -> HttpResponse:
    organisation = _organisation(request, org_slug)
    form = GrantForm(request.POST)
    if not form.is_valid():
        return _page(request, form=form, form_for=organisation.pk, status=400)
    username, email = form.cleaned_data["username"], form.cleaned_data["email"]
    password = None
    if not get_user_model().objects.filter(username=username).exists():
        if not email:
            form.add_error("email", _("Someone new needs an email address."))
            return _page(request, form=form, form_for=organisation.pk, status=400)
        password = secrets.token_urlsafe(15)
        try:
            validate_password(password, get_user_model()(username=username, email=email))
        except ValidationError:  # pragma: no cover - a 20-character random password passes
            password = secrets.token_urlsafe(24)
    try:
        result = do_grant_role(
            actor(request),
            username=username,
            organisation=organisation,
            role=Role(form.cleaned_data["role"]),
            email=email if password else "",
            password=password,
        )
    except LastOwner:
        return _page(request, problem=_owner_problem(organisation), status=400)
    forget_roles(request.user)
    return _page(
        request,
        done=_("%(user)s is now %(role)s of %(organisation)s.")
        % {
            "user": username,
            "role": Role(form.cleaned_data["role"]).label,
            "organisation": organisation.name,
        },
        new_password=password if result.created else None,
        new_user=username if result.created else None,
    )


def _owner_problem(organisation: Organisation) -> str:
    return _("%(organisation)s needs at least one owner: make someone else owner first.") % {
        "organisation": organisation.name
    }


@staff_required
@require_POST
def remove(request: HttpRequest, org_slug: str) -> HttpResponse:
    organisation = _organisation(request, org_slug)
    # A NUL, which PostgreSQL cannot take in a query, answered 500.
    username = request.POST.get("username", "").replace("\x00", "")[:150]
    try:
        removed = do_remove_role(actor(request), username=username, organisation=organisation)
    except LastOwner:
        return _page(request, problem=_owner_problem(organisation), status=400)
    if not removed:
        return _page(
            request,
            problem=_("%(user)s has no role in %(organisation)s.")
            % {"user": username, "organisation": organisation.name},
            status=400,
        )
    forget_roles(request.user)
    if not organisation_ids(request.user, Permission.MANAGE_STAFF):
        return redirect("workspace:home")
    return _page(
        request,
        done=_("%(user)s no longer has a role in %(organisation)s.")
        % {"user": username, "organisation": organisation.name},
    )
