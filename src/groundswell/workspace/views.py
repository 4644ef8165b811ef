"""The workspace's pages: thin views over petitions/tally/dashboard.py and workspace/scope.py."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from groundswell.lib.numbers import bounded_int
from groundswell.orgs.access import Permission, can, organisation_ids, staff_required
from groundswell.petitions.counter import petition_count
from groundswell.petitions.tally import dashboard
from groundswell.workspace import scope
from groundswell.workspace.comments import recent_comments

SIGNERS_PER_PAGE = 50
# How often the dashboard asks stats.json again; `?refresh=N` picks another (2 to 300).
REFRESH_SECONDS = 15


def _refresh_seconds(request: HttpRequest) -> int:
    asked = request.GET.get("refresh", "")
    number = bounded_int(asked, 999)
    return REFRESH_SECONDS if number is None else min(300, max(2, number))


def _stats(petition: scope.Petition) -> dict:
    figures = dashboard.figures(petition)
    # The headline is the public count, so staff and the public page agree; `counted`
    # is the sum of the hours, which runs ahead of it by at most a few seconds.
    figures["counted"] = figures["total"]
    figures["total"] = petition_count(petition).count
    return figures


def _top(stats: dict, rows: int = 10) -> dict[str, list[tuple[str, int]]]:
    """The first rows of each ranking, with a name for the empty value."""
    blank = {
        "by_source": _("direct or unknown"),
        "by_referrer": _("none (typed, an app or an email)"),
        "by_country": _("not given"),
        "by_region": _("not given"),
    }
    key = {
        "by_source": "source",
        "by_referrer": "referrer",
        "by_country": "country",
        "by_region": "region",
    }
    return {
        ranking: [
            (row[key[ranking]] or str(blank[ranking]), row["count"])
            for row in stats[ranking][:rows]
        ]
        for ranking in blank
    }


@staff_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    petitions = [
        {"petition": p, "count": petition_count(p).count}
        for p in scope.petitions(request.user).order_by("-created_at")
    ]
    mailings = (
        scope.mailings(request.user).select_related("organisation").order_by("-created_at")[:20]
    )
    can_write = bool(organisation_ids(request.user, Permission.WRITE))
    return render(
        request,
        "workspace/home.html",
        {"petitions": petitions, "mailings": mailings, "can_write": can_write},
    )


@staff_required
@require_GET
def petition_dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    petition = scope.petition(request.user, slug)
    stats = _stats(petition)
    organisations = scope.people_organisations(request.user, petition)
    signers = None
    if organisations:
        signatures = scope.consenting_signatures(petition, organisations)
        signers = Paginator(signatures, SIGNERS_PER_PAGE).get_page(request.GET.get("page"))
        shown = signers.paginator.count
        others = max(0, stats["counted"] - shown)
    else:
        others = stats["counted"]
    top = _top(stats)
    top["members"] = [
        (_("new members"), stats["new_members"]),
        (_("existing members"), stats["existing_members"]),
    ]
    # Comments go to the target in the delivery: whoever may deliver may read them.
    can_read_comments = can(request.user, petition.lead_sponsor_id(), Permission.PEOPLE)
    return render(
        request,
        "workspace/petition.html",
        {
            "petition": petition,
            "stats": stats,
            "organisations": organisations,
            "signers": signers,
            "others": others,
            "top": top,
            "most": {
                ranking: max((n for _, n in rows), default=1) for ranking, rows in top.items()
            },
            "refresh_seconds": _refresh_seconds(request),
            # The delivery names every signer: for the lead sponsor's people permission.
            "can_deliver": can(request.user, petition.lead_sponsor_id(), Permission.PEOPLE),
            "can_edit": can(request.user, petition.lead_sponsor_id(), Permission.WRITE),
            "comments": recent_comments(petition) if can_read_comments else None,
        },
    )


@staff_required
@require_GET
def petition_stats(request: HttpRequest, slug: str) -> JsonResponse:
    response = JsonResponse(_stats(scope.petition(request.user, slug)))
    response["Cache-Control"] = "private, no-store"
    return response
