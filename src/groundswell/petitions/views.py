"""The public petition pages: thin views over pages.py (rendering) and actions/signing.py
(writes)."""

from __future__ import annotations

from django.core import signing
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from groundswell.lib.clients import client_address
from groundswell.lib.db import DATABASE_AWAY
from groundswell.lib.numbers import bounded_int
from groundswell.lib.tokens import MemberToken, read_member_token
from groundswell.members.models import Person
from groundswell.members.recognition import Recognition, forget, recognise, remember
from groundswell.petitions import pages
from groundswell.petitions.actions.signing import SignatureDetails, SignResult, prepare_signature
from groundswell.petitions.counter import petition_count
from groundswell.petitions.defences import OverLimit, confirms_by_email, form_problem
from groundswell.petitions.forms import (
    REQUIRABLE_OF_MEMBERS,
    SignForm,
    ValidSubmission,
    attribution_from,
    read_plain_submission,
    required_of_members,
)
from groundswell.petitions.models import Petition, PetitionStatus
from groundswell.petitions.referrals import make_referral_code
from groundswell.petitions.sharing import share_links
from groundswell.petitions.signals import member_link_followed
from groundswell.petitions.writer import write_together
from groundswell.petitions.writer_client import SigningUnavailable

THANKS_COOKIE = "gs_thanks"
THANKS_SALT = "groundswell.petitions.thanks"
THANKS_MAX_AGE = 3600


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    petitions = Petition.objects.filter(status=PetitionStatus.OPEN).order_by("-opened_at", "-pk")
    items = [{"petition": p, "snapshot": petition_count(p)} for p in petitions[:50]]
    return render(request, "home.html", {"petitions": items})


# What the member's page reads of them: the name it greets them by, and the details
# a petition may require, which it asks for when missing (forms.asked_of_member).
GREETED_BY = ("first_name", *REQUIRABLE_OF_MEMBERS)


@require_http_methods(["GET", "HEAD", "POST"])
def petition_page(request: HttpRequest, slug: str) -> HttpResponse:
    if request.method == "POST":
        return _sign(request, slug)
    public = pages.load_public_petition(slug)
    member = recognise(
        request, request.GET.get("akid"), [o.pk for o in public.sponsors], only=GREETED_BY
    )
    if member is not None and public.petition.status == PetitionStatus.OPEN:
        return recognised_page(request, public, member)
    response = HttpResponse(pages.render_petition_page(request, public))
    # It carries this visitor's CSRF token: browsers may keep it, shared caches may not.
    response["Cache-Control"] = "private, no-cache"
    return response


def recognised_page(
    request: HttpRequest, public: pages.PublicPetition, member: Recognition
) -> HttpResponse:
    """The open petition's page for a member recognised by their link or cookie: the
    view's answer, and the one given in front of Django (fastpath.RecognisedPagesInFront)."""
    link_number = request.GET.get("t", "")
    html = pages.render_recognised_page(
        request,
        public,
        member.person,
        member.token,
        link_number if bounded_int(link_number) is not None else "",
        consented=member.consented,
    )
    # Once the page is made: a read of it that failed (the count, the recent signers)
    # sends the request on to Django's 503, which must not count the click again.
    member_link_followed.send(
        None,
        request=request,
        link_number=link_number,
        token=request.GET.get("akid"),
        member=member.member_token,
    )
    response = HttpResponse(html)
    remember(request, response, member)
    response["Cache-Control"] = "private, no-store"
    return response


# How long a signer is asked to wait when the database is away.
RETRY_AFTER_SECONDS = 30
_SIGNING_AWAY: tuple[type[Exception], ...] = (SigningUnavailable, *DATABASE_AWAY)


def _sign(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        return _sign_with_database(request, slug)
    except _SIGNING_AWAY:
        public = pages.last_known_public_petition(slug)
        if public is None:
            raise  # the site's own 503 page (operations/middleware.py)
        response = HttpResponse(pages.render_sign_unavailable(request, public), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        response["Cache-Control"] = "private, no-store"
        return response


def _sign_with_database(request: HttpRequest, slug: str) -> HttpResponse:
    public = pages.load_public_petition(slug)
    if public.petition.signing_off:
        return HttpResponse(pages.render_petition_page(request, public), status=400)
    link = read_member_token(request.POST.get("akid"))
    if link is not None:
        signed = _sign_by_link(request, public, link)
        if signed is not None:
            return signed
    member = recognise(request, request.POST.get("akid"), [o.pk for o in public.sponsors])
    person = member.person if member is not None else None
    consented = member.consented if member is not None else frozenset()
    problem = form_problem(public.petition, request.POST, recognised=person is not None)
    if problem is not None:
        return _refused(request, public, person, problem, status=400)
    # The common case without the Form machinery; SignForm decides anything else.
    submission = read_plain_submission(
        request.POST, public.petition, public.sponsors, member=person, consented=consented
    )
    if submission is None:
        form = SignForm(
            request.POST,
            petition=public.petition,
            sponsors=public.sponsors,
            member=person,
            consented=consented,
        )
        if not form.is_valid():
            return HttpResponse(pages.render_petition_errors(request, public, form), status=400)
        submission = ValidSubmission(
            form.cleaned_data, form.normalised_email, form.ticked_organisations()
        )
    mailing_id = member.mailing_id if member is not None else None
    details = _details(request, submission, person=person, mailing_id=mailing_id)
    # A recognised member's address is theirs on file (stored normalised), not typed
    # here; their link came to that address, so there is nothing to confirm.
    normalised = person.email_normalised if person else submission.normalised_email
    result = _write(request, public, details, normalised, address_proven=person is not None)
    if result.over_limit is not None:
        return _over_limit(request, public, person, result.over_limit)
    if result.not_open:
        return _closed_meanwhile(request, slug)
    if confirms_by_email(public.petition) and person is None:
        # The same page for a new signature, a pending one and one confirmed before:
        # what happened goes by email to the owner of the address.
        response = HttpResponseRedirect(f"/sign/{slug}/check-email/")
        response.status_code = 303
        response["Cache-Control"] = "no-store"
        return response
    # The same answer whether the address had signed before or not (which petitions
    # someone signed is a political opinion): its owner learns that by email.
    return redirect_to_thanks(request, slug, result.signer_id)


def _sign_by_link(
    request: HttpRequest, public: pages.PublicPetition, link: MemberToken
) -> HttpResponse | None:
    """A recognised member's one click, the common case of the click wave after a
    send, signed without reading the member here: the signature writer reads them
    with the rest of its batch (actions/members.py). None when the form needs the
    member read here (a problem with it, the member gone or lacking a detail the
    petition requires): nothing was written, and the caller reads the member and
    answers as for any form. A refusal is answered here, not sent to the writer twice."""
    if form_problem(public.petition, request.POST, recognised=True) is not None:
        return None
    # Asked nothing of theirs: the writer checks that their record holds what the
    # petition requires (else the caller's path asks for it).
    submission = read_plain_submission(
        request.POST, public.petition, public.sponsors, member=Person(pk=link.person_id), asked=()
    )
    if submission is None:
        return None
    required = required_of_members(public.petition)
    details = _details(
        request,
        submission,
        person=None,
        mailing_id=link.mailing_id,
        member_id=link.person_id,
        member_requires=required,
    )
    result = _write(request, public, details, None, address_proven=True)
    if result.member_not_ready:
        return None
    if result.not_open:
        return _closed_meanwhile(request, public.petition.slug)
    if result.over_limit is not None:
        # Refused, nothing written: the member's own form again, with why.
        member = recognise(request, request.POST.get("akid"), [o.pk for o in public.sponsors])
        person = member.person if member is not None else None
        return _over_limit(request, public, person, result.over_limit)
    return redirect_to_thanks(request, public.petition.slug, result.signer_id)


def _closed_meanwhile(request: HttpRequest, slug: str) -> HttpResponse:
    """The petition closed or had signing switched off a moment ago: the page, read
    afresh, says so."""
    fresh = pages.read_public_petition(slug)
    return HttpResponse(pages.render_petition_page(request, fresh), status=400)


def _write(
    request: HttpRequest,
    public: pages.PublicPetition,
    details: SignatureDetails,
    normalised_email: str | None,
    *,
    address_proven: bool,
) -> SignResult:
    """Handed to the signature writer, which commits it together with others waiting
    and counts it against the rate limits in the batch's transaction (defences.py)."""
    return write_together(
        prepare_signature(
            public.petition,
            details,
            ip_address=client_address(request),
            sponsor_lists=public.sponsor_lists,
            normalised_email=normalised_email,
            rate_limited=True,
            address_proven=address_proven,
        )
    )


def _details(
    request: HttpRequest,
    submission: ValidSubmission,
    *,
    person: Person | None,
    mailing_id: int | None,
    member_id: int | None = None,
    member_requires: tuple[str, ...] = (),
) -> SignatureDetails:
    """What the writer records of a signature: the form's fields, or a recognised
    member's own details (`person`, or `member_id` for the writer to read)."""
    data = submission.cleaned_data
    attribution = attribution_from(request.POST)
    recognised = person is not None or member_id is not None
    return SignatureDetails(
        email=person.email if person else data.get("email", ""),
        first_name=person.first_name if person else data.get("first_name", ""),
        last_name=person.last_name if person else data.get("last_name", ""),
        postal_code=data.get("postal_code", ""),
        country=data.get("country", ""),
        mailing_id=mailing_id,
        link_number=bounded_int(request.POST.get("t", "")) if recognised else None,
        comment=data["comment"],
        show_name=data["show_name"],
        consents={o.slug for o in submission.ticked},
        source=attribution["source"],
        utm_source=attribution["utm_source"],
        utm_medium=attribution["utm_medium"],
        utm_campaign=attribution["utm_campaign"],
        utm_term=attribution["utm_term"],
        utm_content=attribution["utm_content"],
        referral_code=attribution["ref"],
        http_referer=attribution["referer"],
        member_id=member_id,
        member_requires=member_requires,
    )


def redirect_to_thanks(request: HttpRequest, slug: str, signer_id: int | None) -> HttpResponse:
    """To the thank-you page, with the signer's own share link in a short-lived cookie
    (after signing, and after confirming by email)."""
    response = HttpResponseRedirect(f"/sign/{slug}/thanks/")
    response.status_code = 303
    code = make_referral_code(signer_id) if signer_id is not None else ""
    response.set_signed_cookie(
        THANKS_COOKIE,
        f"{slug}|{code}",
        salt=THANKS_SALT,
        max_age=THANKS_MAX_AGE,
        path=f"/sign/{slug}/",
        httponly=True,
        samesite="Lax",
        secure=request.is_secure(),
    )
    return response


def _refused(
    request: HttpRequest,
    public: pages.PublicPetition,
    person: Person | None,
    message: str,
    *,
    status: int,
) -> HttpResponse:
    """The form again with everything typed, saying why nothing was stored."""
    form = SignForm(
        request.POST,
        petition=public.petition,
        sponsors=public.sponsors,
        member=person,
        consented=pages.consented_organisations(person, public.sponsors) if person else (),
    )
    form.is_valid()
    form.add_error(None, message)
    response = HttpResponse(pages.render_petition_errors(request, public, form), status=status)
    response["Cache-Control"] = "private, no-store"
    return response


def _over_limit(
    request: HttpRequest, public: pages.PublicPetition, person: Person | None, over: OverLimit
) -> HttpResponse:
    now = timezone.now()
    response = _refused(request, public, person, over.explanation(now), status=429)
    response["Retry-After"] = str(over.retry_after_seconds(now))
    return response


@require_GET
def forget_member(request: HttpRequest, slug: str) -> HttpResponse:
    """ "Not Katy? Click here.": this browser stops being recognised. Only the
    visitor's own cookie changes, nothing on the server."""
    response = HttpResponseRedirect(f"/sign/{slug}/")
    response.status_code = 303
    forget(response)
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def thanks(request: HttpRequest, slug: str) -> HttpResponse:
    public = pages.load_public_petition(slug)
    code = ""
    try:
        value = (
            request.get_signed_cookie(THANKS_COOKIE, salt=THANKS_SALT, max_age=THANKS_MAX_AGE) or ""
        )
    except (KeyError, signing.BadSignature):
        value = ""
    cookie_slug, _, rest = value.partition("|")
    if cookie_slug == slug:
        code = rest.partition("|")[0]
    copy_url, links = share_links(public.petition, code)
    response = render(
        request,
        "petitions/thanks.html",
        {
            "petition": public.petition,
            "sponsors": public.sponsors,
            "snapshot": petition_count(public.petition),
            "copy_url": copy_url,
            "share_links": links,
            "page_url": pages.absolute_url(public.petition.get_absolute_url()),
        },
    )
    response["Cache-Control"] = "private, no-cache"
    return response


@require_GET
def petition_json(request: HttpRequest, slug: str) -> JsonResponse:
    petition = pages.load_public_petition(slug).petition
    snapshot = petition_count(petition)
    response = JsonResponse(
        {
            "slug": petition.slug,
            "title": petition.title,
            "status": petition.status,
            "signature_count": snapshot.count,
            "goal": snapshot.goal,
            "updated_at": snapshot.updated_at.isoformat(),
        }
    )
    response["Cache-Control"] = "public, max-age=5, stale-while-revalidate=10"
    response["Access-Control-Allow-Origin"] = "*"
    return response
