"""People imports in the workspace: upload a CSV, choose which column is which, see the
first rows and the problems found, start it, watch its progress, download the rows
refused with their reasons. The work is in workspace/actions/imports.py."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from groundswell.lib.csvsafe import BOM
from groundswell.lib.forms import choose_the_only_choice
from groundswell.members.imports import (
    FIELDS,
    ImportFileError,
    Rejected,
    Row,
    decode,
    guess_columns,
    read_header,
    read_rows,
)
from groundswell.orgs.access import Permission, actor, organisation_ids, staff_required
from groundswell.orgs.models import MailingList
from groundswell.petitions.models import Petition, PetitionStatus
from groundswell.workspace.actions.imports import (
    do_choose_columns,
    do_start_import,
    do_upload_import,
    read_progress,
)
from groundswell.workspace.lists import CollectedConsentForm
from groundswell.workspace.models import ImportStatus, PeopleImport

# About 500,000 rows of a typical export. A bigger list: split it, or use the command.
MAX_BYTES = 50 * 1024 * 1024
PREVIEW_ROWS = 10
PROBLEMS_SHOWN = 20
FIELD_LABELS = {
    "email": gettext_lazy("Email address"),
    "first_name": gettext_lazy("First name"),
    "last_name": gettext_lazy("Last name"),
    "postal_code": gettext_lazy("Postal code"),
    "country": gettext_lazy("Country (two letters)"),
    "address": gettext_lazy("Postal address"),
}


class UploadForm(CollectedConsentForm):
    file = forms.FileField(
        label=gettext_lazy("CSV file"),
        help_text=gettext_lazy(
            "UTF-8, with the column names in the first row; from a spreadsheet, save as "
            "“CSV UTF-8”. One column must hold email addresses."
        ),
    )
    mailing_list = forms.ModelChoiceField(
        label=gettext_lazy("Add them to the list"), queryset=MailingList.objects.none()
    )
    petition = forms.ModelChoiceField(
        label=gettext_lazy("Also record them as signers of"),
        queryset=Petition.objects.none(),
        required=False,
        empty_label=gettext_lazy("no petition: people only"),
        help_text=gettext_lazy(
            "For signatures collected on paper or at an event. They get no thank-you email."
        ),
    )

    def __init__(self, *args: Any, organisations: set[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        lists = MailingList.objects.filter(organisation__in=organisations).select_related(
            "organisation"
        )
        field = self.fields["mailing_list"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = lists.order_by("organisation__name", "name")
        field.label_from_instance = _list_label  # type: ignore[method-assign,assignment]
        choose_the_only_choice(field)
        petition_field = self.fields["petition"]
        assert isinstance(petition_field, forms.ModelChoiceField)
        petition_field.queryset = (
            Petition.objects.filter(sponsors__in=organisations)
            .exclude(status=PetitionStatus.DRAFT)
            .distinct()
            .order_by("-created_at")
        )

    def clean_file(self) -> str:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(mb)d MB: split it, or use groundswell import_people.")
                % {"mb": MAX_BYTES // (1024 * 1024)}
            )
        try:
            text = decode(upload.read())
            read_header(text)
        except ImportFileError as error:
            raise forms.ValidationError(str(error)) from None
        self.file_name = upload.name or "upload.csv"
        return text

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        petition, mailing_list = data.get("petition"), data.get("mailing_list")
        if (
            petition
            and mailing_list
            and not petition.sponsors.filter(pk=mailing_list.organisation_id).exists()
        ):
            self.add_error("petition", _("Choose a petition the list's organisation sponsors."))
        return data


def _list_label(mailing_list: MailingList) -> str:
    return f"{mailing_list.organisation.name}: {mailing_list.name}"


def _writable(request: HttpRequest) -> set[int]:
    orgs = organisation_ids(request.user, Permission.WRITE)
    if not orgs:
        raise Http404
    return set(orgs)


def _import_for(request: HttpRequest, import_id: int) -> PeopleImport:
    found = (
        PeopleImport.objects.select_related("mailing_list", "organisation", "petition")
        .filter(pk=import_id, organisation__in=_writable(request))
        .first()
    )
    if found is None:
        raise Http404
    return found


@staff_required
@require_http_methods(["GET", "POST"])
def imports(request: HttpRequest) -> HttpResponse:
    organisations = _writable(request)
    form = UploadForm(request.POST or None, request.FILES or None, organisations=organisations)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        text = data["file"]
        people_import = do_upload_import(
            mailing_list=data["mailing_list"],
            petition=data["petition"],
            file_name=form.file_name,
            text=text,
            columns=guess_columns(read_header(text)),
            consent_text=data["consent_text"],
            source=data["source"],
            actor=actor(request),
        )
        return redirect("workspace:import", import_id=people_import.pk)
    past = PeopleImport.objects.filter(organisation__in=organisations).select_related(
        "mailing_list", "organisation"
    )[:50]
    status = 400 if request.method == "POST" else 200
    return render(request, "workspace/imports.html", {"form": form, "imports": past}, status=status)


def _preview(people_import: PeopleImport) -> dict[str, Any]:
    """The header with each field's column, the first rows as they will be read, and
    the problems in the whole file."""
    text = people_import.data
    header = read_header(text)
    columns = {k: int(v) for k, v in people_import.columns.items()}
    choices = [
        {
            "field": field,
            "label": FIELD_LABELS[field],
            "column": columns.get(field),
        }
        for field in FIELDS
    ]
    context: dict[str, Any] = {"header": list(enumerate(header)), "choices": choices}
    if "email" not in columns:
        context["file_problem"] = _("Choose the column that holds the email addresses.")
        return context
    rows: list[Row] = []
    problems: list[Rejected] = []
    good = refused = 0
    try:
        for row in read_rows(text, columns):
            if isinstance(row, Rejected):
                refused += 1
                if len(problems) < PROBLEMS_SHOWN:
                    problems.append(row)
            else:
                good += 1
                if len(rows) < PREVIEW_ROWS:
                    rows.append(row)
    except ImportFileError as error:
        context["file_problem"] = str(error)
        return context
    shown = [field for field in FIELDS if field in columns]
    context.update(
        {
            "shown_fields": [FIELD_LABELS[f] for f in shown],
            "preview": [(row.line, [getattr(row.details, f) for f in shown]) for row in rows],
            "problems": problems,
            "good": good,
            "refused": refused,
        }
    )
    return context


@staff_required
@require_http_methods(["GET", "POST"])
def import_detail(request: HttpRequest, import_id: int) -> HttpResponse:
    people_import = _import_for(request, import_id)
    if request.method == "POST":
        chose = any(f"column-{field}" in request.POST for field in FIELDS)
        if chose and people_import.status in (ImportStatus.UPLOADED, ImportStatus.FAILED):
            columns: dict[str, int] = {}
            for field in FIELDS:
                chosen = request.POST.get(f"column-{field}", "")
                # ASCII digits only: "²" is a digit to isdigit(), not to int().
                if chosen.isascii() and chosen.isdigit() and len(chosen) < 5:
                    columns[field] = int(chosen)
            do_choose_columns(people_import, columns)
            people_import.columns = columns
        if "start" in request.POST:
            if "email" not in people_import.columns:
                return redirect("workspace:import", import_id=people_import.pk)
            do_start_import(people_import)
        return redirect("workspace:import", import_id=people_import.pk)
    context: dict[str, Any] = {"job": people_import}
    if people_import.status in (ImportStatus.UPLOADED, ImportStatus.FAILED):
        context.update(_preview(people_import))
    if people_import.status in (ImportStatus.QUEUED, ImportStatus.RUNNING):
        context["done"] = read_progress(people_import.pk)
    return render(request, "workspace/import.html", context)


@staff_required
@require_GET
def import_progress(request: HttpRequest, import_id: int) -> JsonResponse:
    people_import = _import_for(request, import_id)
    response = JsonResponse(
        {
            "status": people_import.status,
            "rows": people_import.rows,
            "done": read_progress(people_import.pk),
            "finished": people_import.status in (ImportStatus.DONE, ImportStatus.FAILED),
        }
    )
    response["Cache-Control"] = "private, no-store"
    return response


@staff_required
@require_GET
def import_rejected(request: HttpRequest, import_id: int) -> HttpResponse:
    people_import = _import_for(request, import_id)
    if people_import.status != ImportStatus.DONE:
        raise Http404
    response = HttpResponse(
        BOM + (people_import.rejected_report or "line,email,reason\r\n"),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="import-{people_import.pk}-refused-rows.csv"'
    )
    response["Cache-Control"] = "private, no-store"
    return response
