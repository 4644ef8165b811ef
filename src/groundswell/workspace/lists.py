"""Mailing lists in the workspace: each list of the user's organisations with how many
are on it, its export, and a person added by hand with the consent wording and source
recorded (the import's action, for one row)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django import forms
from django.db.models import Count, Q
from django.db.models.functions import TruncWeek
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from groundswell.lib.csvsafe import csv_text
from groundswell.lib.forms import AccessibleErrorsMixin
from groundswell.members.actions.imports import do_import_people
from groundswell.members.imports import Rejected, read_rows
from groundswell.members.models import ConsentEvent, SubscriptionStatus
from groundswell.orgs.access import Permission, actor, can, organisation_ids, staff_required
from groundswell.orgs.models import MailingList


class CollectedConsentForm(AccessibleErrorsMixin, forms.Form):
    """What people agreed to and where, for those added by hand or imported."""

    consent_text = forms.CharField(
        label=gettext_lazy("What they agreed to, in the words they were shown"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )
    source = forms.CharField(
        label=gettext_lazy("Where and when they were collected"),
        max_length=100,
        help_text=gettext_lazy("For example: phone call, 3 May; stall at the market."),
    )


class AddPersonForm(CollectedConsentForm):
    email = forms.CharField(
        label=gettext_lazy("Email address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"spellcheck": "false"}),
    )
    first_name = forms.CharField(label=gettext_lazy("First name"), max_length=100, required=False)
    last_name = forms.CharField(label=gettext_lazy("Last name"), max_length=100, required=False)
    postal_code = forms.CharField(label=gettext_lazy("Postal code"), max_length=20, required=False)
    country = forms.CharField(
        label=gettext_lazy("Country (two letters)"), max_length=2, required=False
    )


@staff_required
@require_GET
def lists(request: HttpRequest) -> HttpResponse:
    orgs = organisation_ids(request.user, Permission.PEOPLE)
    if not orgs:
        raise Http404
    found = (
        MailingList.objects.filter(organisation__in=orgs)
        .select_related("organisation")
        .annotate(
            subscribed=Count(
                "subscriptions", filter=Q(subscriptions__status=SubscriptionStatus.SUBSCRIBED)
            )
        )
        .order_by("organisation__name", "name")
    )
    writable = organisation_ids(request.user, Permission.WRITE)
    growth = list_growth([ml.pk for ml in found], weeks=GROWTH_WEEKS)
    rows = [
        {"list": ml, "weeks": growth.get(ml.pk, []), "chart": f"growth-{ml.pk}"} for ml in found
    ]
    charts = [
        {
            "id": f"growth-{ml.pk}",
            "weeks": [w["week"] for w in growth.get(ml.pk, [])],
            "joined": [w["joined"] for w in growth.get(ml.pk, [])],
            "left": [w["left"] for w in growth.get(ml.pk, [])],
        }
        for ml in found
    ]
    return render(
        request,
        "workspace/lists.html",
        {
            "lists": found,
            "rows": rows,
            "charts": charts,
            "writable": writable,
            "growth_weeks": GROWTH_WEEKS,
        },
    )


GROWTH_WEEKS = 12
LEAVING = (
    SubscriptionStatus.UNSUBSCRIBED,
    SubscriptionStatus.BOUNCED,
    SubscriptionStatus.COMPLAINED,
)


def list_growth(list_ids: list[int], *, weeks: int) -> dict[int, list[dict[str, object]]]:
    """For each list, week by week (Monday first, the site's time zone) over the last
    `weeks`: how many joined and how many left (unsubscribed, bounced or complained),
    from the consent history, grouped in the database."""
    today = timezone.localdate()
    first = today - timedelta(days=today.weekday() + 7 * (weeks - 1))
    since = timezone.make_aware(datetime.combine(first, time.min))
    counts: dict[tuple[int, date, str], int] = {}
    for list_id, week, kind, n in (
        ConsentEvent.objects.filter(subscription__mailing_list__in=list_ids, created_at__gte=since)
        .annotate(week=TruncWeek("created_at"))
        .values_list("subscription__mailing_list", "week", "kind")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        day = week.date() if isinstance(week, datetime) else week
        key = "joined" if kind == SubscriptionStatus.SUBSCRIBED else "left"
        counts[(list_id, day, key)] = counts.get((list_id, day, key), 0) + n
    result: dict[int, list[dict[str, object]]] = {}
    for list_id in list_ids:
        result[list_id] = [
            {
                "week": (first + timedelta(weeks=i)).isoformat(),
                "joined": counts.get((list_id, first + timedelta(weeks=i), "joined"), 0),
                "left": counts.get((list_id, first + timedelta(weeks=i), "left"), 0),
            }
            for i in range(weeks)
        ]
    return result


@staff_required
@require_http_methods(["GET", "POST"])
def add_person(request: HttpRequest, list_id: int) -> HttpResponse:
    mailing_list = MailingList.objects.select_related("organisation").filter(pk=list_id).first()
    if mailing_list is None or not can(
        request.user, mailing_list.organisation_id, Permission.WRITE
    ):
        raise Http404
    form = AddPersonForm(request.POST or None)
    context: dict[str, object] = {"list": mailing_list, "form": form}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        row = csv_text(
            [
                ["email", "first_name", "last_name", "postal_code", "country"],
                [
                    data["email"],
                    data["first_name"],
                    data["last_name"],
                    data["postal_code"],
                    data["country"],
                ],
            ]
        )
        parsed = list(read_rows(row))
        refused = [r for r in parsed if isinstance(r, Rejected)]
        if refused:
            form.add_error(
                "email" if "address" in refused[0].reason.lower() else None, refused[0].reason
            )
        else:
            result = do_import_people(
                parsed,
                mailing_list,
                consent_text=data["consent_text"],
                source=data["source"],
                actor=actor(request),
            )
            context["done"] = (
                _(
                    "They had left this list or asked not to be emailed: "
                    "we asked them by email instead."
                )
                if result.held
                else _("Added to %(list)s, with their consent recorded.")
                % {"list": mailing_list.name}
            )
            context["form"] = AddPersonForm(
                initial={"consent_text": data["consent_text"], "source": data["source"]}
            )
    status = 400 if request.method == "POST" and form.errors else 200
    return render(request, "workspace/add_person.html", context, status=status)
