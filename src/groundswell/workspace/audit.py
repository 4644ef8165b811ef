"""The audit log in the workspace: owners read their organisations' entries,
administrators every entry; nobody edits or deletes one here."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from groundswell.lib.numbers import MAX_STORED_BIGINT, bounded_int
from groundswell.members.models import AuditAction, AuditEntry
from groundswell.orgs.access import (
    Permission,
    is_administrator,
    manages_staff_anywhere,
    organisation_ids,
    staff_required,
)
from groundswell.orgs.models import Organisation, StaffRole

ENTRIES_PER_PAGE = 50


def visible_entries(user: Any) -> QuerySet[AuditEntry]:
    """Administrators: every entry. Owners: entries filed under their organisations,
    and the sign-ins and sign-outs of the staff who hold a role in them. Others: none."""
    if is_administrator(user):
        return AuditEntry.objects.all()
    orgs = organisation_ids(user, Permission.MANAGE_STAFF)
    if not orgs:
        return AuditEntry.objects.none()
    usernames = get_user_model().objects.filter(
        pk__in=StaffRole.objects.filter(organisation__in=orgs).values("user")
    )
    actors = [f"staff:{name}" for name in usernames.values_list("username", flat=True)]
    return AuditEntry.objects.filter(
        Q(organisation__in=orgs) | Q(organisation__isnull=True, actor__in=actors)
    )


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _filtered(request: HttpRequest, entries: QuerySet[AuditEntry]) -> tuple[Any, list[str]]:
    """The entries the query string asks for, and what in it was not understood."""
    problems: list[str] = []
    action = request.GET.get("action", "")
    if action:
        if action in AuditAction.values:
            entries = entries.filter(action=action)
        else:
            problems.append(_("There is no action called “%(action)s”.") % {"action": action})
    actor = request.GET.get("actor", "").strip()[:200]
    if actor:
        entries = entries.filter(actor__icontains=actor)
    organisation = bounded_int(request.GET.get("organisation", ""), MAX_STORED_BIGINT)
    if organisation is not None:
        entries = entries.filter(organisation_id=organisation)
    zone = timezone.get_current_timezone()
    for name, lookup, at in (
        ("since", "created_at__gte", time.min),
        ("until", "created_at__lte", time.max),
    ):
        value = request.GET.get(name, "")
        if not value:
            continue
        day = _day(value)
        if day is None:
            problems.append(_("“%(value)s” is not a date like 2026-12-31.") % {"value": value})
        else:
            entries = entries.filter(**{lookup: datetime.combine(day, at, tzinfo=zone)})
    return entries, problems


@staff_required
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    if not manages_staff_anywhere(request.user):
        raise Http404
    entries, problems = _filtered(request, visible_entries(request.user))
    page = Paginator(
        entries.select_related("organisation").order_by("-created_at", "-pk"), ENTRIES_PER_PAGE
    ).get_page(request.GET.get("page"))
    organisations = Organisation.objects.filter(
        pk__in=organisation_ids(request.user, Permission.MANAGE_STAFF)
    ).order_by("name")
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "workspace/audit.html",
        {
            "page": page,
            "actions": AuditAction.choices,
            "organisations": organisations,
            "chosen": request.GET,
            "problems": problems,
            "query": query.urlencode(),
        },
        status=400 if problems else 200,
    )
