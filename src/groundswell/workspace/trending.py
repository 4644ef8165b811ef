"""Trending petitions: which open petitions gain signatures fastest in the last hour
against their usual hour, across every petition the staff member may see the figures
of.

A petition's usual hour is the median of its hourly counts over the three days before
the hour under way (since it opened, if later; hours without a signature count as
zero), as the trust page reads it (workspace/activity.py). It is *trending* when its
last sixty minutes hold at least TRENDING_MIN_COUNT valid signatures and more than
TRENDING_FACTOR times its usual hour (a usual hour under one counts as one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from groundswell.orgs.access import Permission, can, staff_required
from groundswell.petitions.models import Petition, PetitionStatus, Signature, SignatureStatus
from groundswell.workspace import scope
from groundswell.workspace.activity import recent_hours

TRENDING_MIN_COUNT = 10
TRENDING_FACTOR = 3


@dataclass(frozen=True)
class Trend:
    petition: Petition
    last_hour: int
    usual_hour: float
    is_trending: bool
    may_review: bool

    @property
    def times_usual(self) -> float:
        return self.last_hour / max(self.usual_hour, 1.0)

    @property
    def times_usual_text(self) -> str:
        return f"{self.times_usual:.1f}"


def trends(user: Any, *, now: datetime | None = None) -> list[Trend]:
    """The open petitions the user sees, fastest-growing against their usual hour
    first."""
    now = now or timezone.now()
    found = []
    for petition in scope.petitions(user).filter(status=PetitionStatus.OPEN):
        # Through the (petition, created_at) index: an hour's range per open petition.
        last_hour = Signature.objects.filter(
            petition=petition,
            status=SignatureStatus.VALID,
            created_at__gte=now - timedelta(hours=1),
        ).count()
        _, usual = recent_hours(petition, now)
        found.append(
            Trend(
                petition=petition,
                last_hour=last_hour,
                usual_hour=usual,
                is_trending=last_hour >= TRENDING_MIN_COUNT
                and last_hour > TRENDING_FACTOR * max(usual, 1.0),
                may_review=can(user, petition.lead_sponsor_id(), Permission.PEOPLE),
            )
        )
    found.sort(key=lambda t: (not t.is_trending, -t.times_usual, -t.last_hour, t.petition.title))
    return found


@staff_required
@require_GET
def trending(request: HttpRequest) -> HttpResponse:
    found = trends(request.user)
    return render(
        request,
        "workspace/trending.html",
        {
            "trends": found,
            "min_count": TRENDING_MIN_COUNT,
            "factor": TRENDING_FACTOR,
        },
    )
