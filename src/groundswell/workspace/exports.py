"""Streamed exports for staff: a petition's signatures (CSV or JSON lines) and the people
on a list (CSV). Each names only people who chose the exporting organisation, needs the
people permission there, and is recorded in the audit log before a byte is sent."""

from __future__ import annotations

import tempfile
from typing import Any

from django.http import FileResponse, Http404, HttpRequest, StreamingHttpResponse
from django.views.decorators.http import require_GET

from groundswell.lib.csvsafe import csv_lines
from groundswell.lib.downloads import json_lines, streamed_attachment
from groundswell.members.actions.audit import do_record_staff_export
from groundswell.members.exports import list_people_rows
from groundswell.members.models import AuditAction
from groundswell.orgs.access import Permission, actor, can, is_administrator, staff_required
from groundswell.orgs.models import MailingList, Organisation
from groundswell.petitions.delivery import DeliveryOptions, delivery_rows, write_delivery_pdf
from groundswell.petitions.exports import signature_records, signature_rows
from groundswell.workspace import scope

FORMATS = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson; charset=utf-8"}


def exporting_organisation(user: Any, petition: scope.Petition, wanted: str) -> Organisation | None:
    """The sponsor whose consenting signers go in the file: the one asked for (by slug),
    else the first where the user may see people. None (every signer) only for an
    administrator who asks for no organisation."""
    sponsors = list(petition.sponsors.order_by("sponsorships__position"))
    if wanted:
        chosen = next((org for org in sponsors if org.slug == wanted), None)
        if chosen is None or not can(user, chosen.pk, Permission.PEOPLE):
            raise Http404
        return chosen
    if is_administrator(user):
        return None
    for org in sponsors:
        if can(user, org.pk, Permission.PEOPLE):
            return org
    raise Http404


@staff_required
@require_GET
def petition_signatures(request: HttpRequest, slug: str, fmt: str) -> StreamingHttpResponse:
    if fmt not in FORMATS:
        raise Http404
    petition = scope.petition(request.user, slug)
    organisation = exporting_organisation(request.user, petition, request.GET.get("org", ""))
    do_record_staff_export(
        AuditAction.SIGNATURES_EXPORTED,
        actor(request),
        organisation=organisation,
        details={"petition": petition.pk, "slug": petition.slug, "format": fmt},
    )
    name = f"{petition.slug}-signatures{'-' + organisation.slug if organisation else ''}.{fmt}"
    if fmt == "jsonl":
        chunks = json_lines(signature_records(petition, organisation))
    else:
        chunks = csv_lines(signature_rows(petition, organisation), bom=bool(request.GET.get("bom")))
    return streamed_attachment(chunks, content_type=FORMATS[fmt], filename=name)


@staff_required
@require_GET
def list_people(request: HttpRequest, list_id: int) -> StreamingHttpResponse:
    mailing_list = MailingList.objects.select_related("organisation").filter(pk=list_id).first()
    if mailing_list is None or not can(
        request.user, mailing_list.organisation_id, Permission.PEOPLE
    ):
        raise Http404
    do_record_staff_export(
        AuditAction.PEOPLE_EXPORTED,
        actor(request),
        organisation=mailing_list.organisation,
        details={"list": mailing_list.pk, "name": mailing_list.name},
    )
    return streamed_attachment(
        csv_lines(list_people_rows(mailing_list), bom=bool(request.GET.get("bom"))),
        content_type=FORMATS["csv"],
        filename=f"{mailing_list.organisation.slug}-{mailing_list.slug}-people.csv",
    )


def _delivery(request: HttpRequest, slug: str) -> tuple[scope.Petition, DeliveryOptions]:
    """The petition, if the user may hand it over: it names every signer, so it is for
    the people permission in the lead sponsor (the organisation that delivers), or an
    administrator."""
    petition = scope.petition(request.user, slug)
    if not can(request.user, petition.lead_sponsor_id(), Permission.PEOPLE):
        raise Http404
    options = DeliveryOptions(
        comments=request.GET.get("comments", "1") != "0",
        places=request.GET.get("places", "1") != "0",
    )
    return petition, options


def _record_delivery(request: HttpRequest, petition: scope.Petition, what: str) -> None:
    do_record_staff_export(
        AuditAction.SIGNATURES_EXPORTED,
        actor(request),
        organisation=petition.lead_sponsor_id(),
        details={"petition": petition.pk, "slug": petition.slug, "format": what},
    )


@staff_required
@require_GET
def delivery_pdf(request: HttpRequest, slug: str) -> FileResponse:
    petition, options = _delivery(request, slug)
    _record_delivery(request, petition, "delivery.pdf")
    # Spooled: small deliveries stay in memory, large ones go to a temporary file.
    # FileResponse closes it once sent.
    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    write_delivery_pdf(petition, out, options)
    out.seek(0)
    response = FileResponse(
        out,
        as_attachment=True,
        filename=f"{petition.slug}-delivery.pdf",
        content_type="application/pdf",
    )
    response["Cache-Control"] = "no-store"
    return response


@staff_required
@require_GET
def delivery_csv(request: HttpRequest, slug: str) -> StreamingHttpResponse:
    petition, options = _delivery(request, slug)
    _record_delivery(request, petition, "delivery.csv")
    return streamed_attachment(
        csv_lines(delivery_rows(petition, options), bom=bool(request.GET.get("bom"))),
        content_type=FORMATS["csv"],
        filename=f"{petition.slug}-delivery.csv",
    )
