"""Signers' comments on the petition dashboard: the newest ones, and hiding an abusive
one from the public page and the delivery (or showing it again). Reading them needs the
people permission in the lead sponsor (the delivery carries them too); hiding, the
write permission."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from groundswell.orgs.access import Permission, actor, can, staff_required
from groundswell.petitions.actions.comments import do_hide_comment
from groundswell.petitions.countries import COUNTRY_NAMES
from groundswell.petitions.models import Petition, Signature, SignatureStatus
from groundswell.workspace import scope

SHOWN = 20


def recent_comments(petition: Petition, *, limit: int = SHOWN) -> list[dict[str, Any]]:
    """The newest comments of valid signatures, without names: the text, when, where
    from, and whether the public page shows it."""
    rows = (
        # comment > '' as the partial index signature_comments_idx says it, so that
        # both databases see the index answers it.
        Signature.objects.filter(petition=petition, status=SignatureStatus.VALID, comment__gt="")
        .order_by("-created_at")
        .values_list(
            "pk", "comment", "created_at", "show_name", "comment_hidden_at", "person__country"
        )[:limit]
    )
    return [
        {
            "id": pk,
            "comment": comment,
            "created_at": created_at,
            "public": show_name and hidden is None,
            "hidden": hidden is not None,
            "place": COUNTRY_NAMES.get(country or "", ""),
        }
        for pk, comment, created_at, show_name, hidden, country in rows
    ]


@staff_required
@require_POST
def hide_comment(request: HttpRequest, slug: str, signature_id: int) -> HttpResponse:
    petition = scope.petition(request.user, slug)
    if not can(request.user, petition.lead_sponsor_id(), Permission.WRITE):
        raise Http404
    signature = (
        Signature.objects.select_related("petition")
        .filter(pk=signature_id, petition=petition)
        .first()
    )
    if signature is None:
        raise Http404
    do_hide_comment(actor(request), signature, hidden=request.POST.get("hidden") != "0")
    return redirect(reverse("workspace:petition", args=[petition.slug]) + "#comments-heading")
