"""Confirmation by email, the public side: "check your email" after signing, and the
page the email links to, whose button (a POST) confirms. Opening the link changes
nothing, so a mail scanner that follows it confirms nothing."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from groundswell.petitions import pages
from groundswell.petitions.actions.confirming import Confirmed, do_confirm_signature
from groundswell.petitions.confirmations import read_confirmation_token
from groundswell.petitions.models import Petition, PetitionStatus, Signature, SignatureStatus
from groundswell.petitions.views import redirect_to_thanks


@require_GET
def check_email(request: HttpRequest, slug: str) -> HttpResponse:
    """After signing a petition that asks for confirmation. It names no address: the
    page's URL is the same for everyone."""
    public = pages.load_public_petition(slug)
    response = render(
        request,
        "petitions/check_email.html",
        {"petition": public.petition, "sponsors": public.sponsors},
    )
    response["Cache-Control"] = "private, no-cache"
    return response


@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """404 for a link that was never ours; 410 for one of ours that no longer works
    (expired, or its signature removed); 409 while its petition takes no signatures."""
    read = read_confirmation_token(token)
    if read is None:
        return _answer(request, "not-ours", None, status=404)
    signature = Signature.objects.select_related("petition").filter(pk=read.signature_id).first()
    if signature is None or int(signature.created_at.timestamp()) != int(
        read.signed_at.timestamp()
    ):
        return _answer(request, "gone", None, status=410)
    petition = signature.petition
    if request.method == "POST":
        outcome = do_confirm_signature(signature.pk)
        if outcome in (Confirmed.NOW, Confirmed.BEFORE):
            return _to_thanks(request, petition, signature.person_id)
        if outcome == Confirmed.CLOSED:
            return _answer(request, "closed", petition, status=409)
        return _answer(request, "gone", petition, status=410)
    if signature.status == SignatureStatus.VALID and signature.confirmed_at is not None:
        return _answer(request, "confirmed", petition, status=200)
    if signature.status != SignatureStatus.PENDING or read.has_expired():
        return _answer(request, "gone", petition, status=410)
    if petition.status != PetitionStatus.OPEN or petition.signing_off:
        return _answer(request, "closed", petition, status=409)
    return _answer(request, "ask", petition, status=200)


def _answer(
    request: HttpRequest, state: str, petition: Petition | None, *, status: int
) -> HttpResponse:
    response = render(
        request,
        "petitions/confirm.html",
        {"state": state, "petition": petition},
        status=status,
    )
    # The link works for one person: nothing of it is kept by a cache.
    response["Cache-Control"] = "private, no-store"
    return response


def _to_thanks(request: HttpRequest, petition: Petition, person_id: int | None) -> HttpResponse:
    """The thank-you page, with the signer's own share link, as after signing."""
    return redirect_to_thanks(request, petition.slug, person_id)
