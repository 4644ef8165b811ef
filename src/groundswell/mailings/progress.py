"""The live progress of a send, as JSON for the staff page's progress bar."""

from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.cache import never_cache

from .models import Mailing
from .sending import progress


@never_cache
@staff_member_required
def progress_json(request: HttpRequest, mailing_id: int) -> JsonResponse:
    mailing = get_object_or_404(Mailing, pk=mailing_id)
    return JsonResponse(progress(mailing))
