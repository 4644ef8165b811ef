"""Staff report pages: thin views over reports/mailings.py."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from groundswell.lib.csvsafe import csv_text
from groundswell.mailings.models import Mailing
from groundswell.orgs.access import staff_required
from groundswell.reports.mailings import (
    chart_timeline,
    mailing_report,
    report_csv_rows,
    summary_rows,
)


def _chart(mailing: Mailing) -> dict[str, Any]:
    points = chart_timeline(mailing)
    labels = {
        "opens": _("Opens"),
        "clicks": _("Clicks by people"),
        # Scanners click at the first minute in hundreds: shown, they flatten every
        # other line. One click on the legend shows them.
        "machine_clicks": _("Machine clicks"),
        "actions": _("Actions"),
    }
    return {
        "timezone": timezone.get_current_timezone_name(),
        "step": points["step"],
        "times": points["times"],
        "series": [
            {
                "label": str(label),
                "values": points["series"].get(key, []),
                "hidden": key == "machine_clicks",
            }
            for key, label in labels.items()
        ],
    }


@require_GET
@staff_required
def mailing(request: HttpRequest, mailing_id: int) -> HttpResponse:
    mailing = get_object_or_404(Mailing.objects.visible_to(request.user), pk=mailing_id)
    report = mailing_report(mailing)
    return render(
        request,
        "reports/mailing.html",
        {
            **admin.site.each_context(request),
            # The admin's model list beside the report only says "no permission" to most staff.
            "is_nav_sidebar_enabled": False,
            "mailing": mailing,
            "report": report,
            "summary": summary_rows(report),
            "timeline": [
                {**row, "hour_at": datetime.fromisoformat(row["hour"])}
                for row in report["timeline"]
            ],
            "chart": _chart(mailing),
        },
    )


@require_GET
@staff_required
def mailing_csv(request: HttpRequest, mailing_id: int) -> HttpResponse:
    mailing = get_object_or_404(Mailing.objects.visible_to(request.user), pk=mailing_id)
    response = HttpResponse(
        csv_text(report_csv_rows(mailing_report(mailing))), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="mailing-{mailing.pk}-report.csv"'
    response["Cache-Control"] = "private, no-store"
    return response
