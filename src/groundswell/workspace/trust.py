"""The trust page (/staff/petitions/<slug>/trust/): unusual activity on a petition
(workspace/activity.py) and bulk invalidation with a preview and an undo
(workspace/invalidation.py, workspace/actions/invalidation.py).

Reading it needs the people permission in the lead sponsor (networks, domains and the
preview's sample are about people); invalidating and undoing, the write permission
there too. Anyone else gets 404, as for everything they may not see."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from groundswell.lib.numbers import bounded_int
from groundswell.orgs.access import Permission, actor, can, require, staff_required
from groundswell.petitions.models import Petition
from groundswell.workspace import activity, scope
from groundswell.workspace.actions.invalidation import (
    NotUndoable,
    do_invalidate_in_bulk,
    do_undo_invalidation,
)
from groundswell.workspace.invalidation import CriteriaForm, batches, describe, preview
from groundswell.workspace.models import InvalidationBatch


def _readable(request: HttpRequest, slug: str) -> Petition:
    petition = scope.petition(request.user, slug)
    require(request.user, petition.lead_sponsor_id(), Permission.PEOPLE)
    return petition


def _writable(request: HttpRequest, slug: str) -> Petition:
    petition = _readable(request, slug)
    require(request.user, petition.lead_sponsor_id(), Permission.WRITE)
    return petition


def _to_batches(petition: Petition) -> HttpResponse:
    """Back to the trust page's list of invalidations, where the change shows."""
    return redirect(reverse("workspace:petition-trust", args=[petition.slug]) + "#batches")


def _page(
    request: HttpRequest,
    petition: Petition,
    form: CriteriaForm,
    *,
    previewed: object = None,
    status: int = 200,
) -> HttpResponse:
    period = activity.period_of(request.GET.get("period", ""))
    found = activity.activity(petition, period)
    shown = batches(petition)
    return render(
        request,
        "workspace/trust.html",
        {
            "petition": petition,
            "activity": found,
            "periods": [(key, label) for key, (_span, label) in activity.PERIODS.items()],
            "period_label": activity.PERIODS[found.period][1],
            "chart": activity.hours_for_chart(found.hours, found.spike_threshold),
            "rules": {
                "outlier_min": activity.OUTLIER_MIN_COUNT,
                "outlier_factor": activity.OUTLIER_FACTOR,
                "spike_min": activity.SPIKE_MIN_COUNT,
                "spike_factor": activity.SPIKE_FACTOR,
            },
            "can_invalidate": can(request.user, petition.lead_sponsor_id(), Permission.WRITE),
            "form": form,
            "preview": previewed,
            "batches": [(batch, describe(batch.criteria)) for batch in shown],
        },
        status=status,
    )


@staff_required
@require_GET
def trust(request: HttpRequest, slug: str) -> HttpResponse:
    petition = _readable(request, slug)
    # A table's "review" link fills in its value.
    initial: dict[str, object] = {
        k: request.GET[k][:255] for k in ("network", "domain") if k in request.GET
    }
    hour = bounded_int(request.GET.get("hour", ""), 2**40)
    if hour is not None:  # an hour of the table: its window
        start = datetime.fromtimestamp(hour, UTC)
        initial["since"] = timezone.localtime(start).strftime("%Y-%m-%dT%H:%M")
        initial["until"] = timezone.localtime(start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    return _page(request, petition, CriteriaForm(initial=initial))


@staff_required
@require_POST
def invalidate(request: HttpRequest, slug: str) -> HttpResponse:
    """Preview (`preview` pressed) or run (`confirm`) a bulk invalidation."""
    petition = _writable(request, slug)
    form = CriteriaForm(request.POST)
    if not form.is_valid():
        return _page(request, petition, form, status=400)
    if "confirm" not in request.POST:
        return _page(request, petition, form, previewed=preview(petition, form.criteria()))
    if not form.require_reason():
        previewed = preview(petition, form.criteria())
        return _page(request, petition, form, previewed=previewed, status=400)
    batch = do_invalidate_in_bulk(
        actor(request), petition, form.criteria(), reason=form.cleaned_data["reason"]
    )
    messages.success(
        request,
        ngettext(
            "%(count)s signature invalidated: it no longer counts.",
            "%(count)s signatures invalidated: they no longer count.",
            batch.invalidated,
        )
        % {"count": f"{batch.invalidated:,}"},
    )
    return _to_batches(petition)


@staff_required
@require_POST
def undo(request: HttpRequest, slug: str, batch_id: int) -> HttpResponse:
    petition = _writable(request, slug)
    batch = get_object_or_404(InvalidationBatch, pk=batch_id, petition=petition)
    try:
        batch = do_undo_invalidation(actor(request), batch)
    except NotUndoable:
        messages.error(request, _("That invalidation was undone already."))
        return _to_batches(petition)
    messages.success(
        request,
        ngettext(
            "%(count)s signature counts again.",
            "%(count)s signatures count again.",
            batch.restored,
        )
        % {"count": f"{batch.restored:,}"},
    )
    return _to_batches(petition)
