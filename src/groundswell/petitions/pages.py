"""Building the public pages cheaply: what is the same for every visitor is rendered once.

The petition page for a visitor who has not submitted anything is rendered once per
process for each (petition version, language, count, recent signers), with
placeholders where the visitor's own CSRF token and attribution fields go; each
request fills those in with two string replacements. No visitor ever receives
another's token, and no shared cache may store the page (Cache-Control: private).
A recognised member's page is the same cached page with a third placeholder where
the form's fields go; only those fields (the greeting, "Not <name>?", the consent
boxes as they stand for the member) are rendered per request.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Collection
from dataclasses import dataclass
from html import escape as html_escape
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http import Http404, HttpRequest
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from groundswell.lib.markdown import render_markdown
from groundswell.lib.refresh import ProcessCache
from groundswell.members.models import Person, Subscription, SubscriptionStatus
from groundswell.orgs.models import MailingList, Organisation
from groundswell.petitions import consent
from groundswell.petitions.counter import petition_count, recent_signers
from groundswell.petitions.defences import (
    challenge_fields,
    form_stamp,
    proof_of_work_for,
    stamp_to_keep,
)
from groundswell.petitions.forms import SHOWN_FIELD, SignForm, asked_of_member, attribution_from
from groundswell.petitions.models import ConsentMode, Petition, PetitionStatus

PETITION_CACHE_SECONDS = 5.0


@dataclass(frozen=True)
class PublicPetition:
    petition: Petition
    sponsors: list[Organisation]
    # The same sponsors with the default list each one's consent goes to: signing
    # records consent against the sponsors the form was built from.
    sponsor_lists: list[tuple[Organisation, MailingList | None]]
    background_html: SafeString


_lock = threading.Lock()
_petitions: ProcessCache[str, PublicPetition] = ProcessCache(lambda: PETITION_CACHE_SECONDS)
_pages: dict[tuple[int, str, bool], tuple[tuple[Any, ...], str]] = {}

# Random per process, so no text in a petition can match them by accident.
CSRF_PLACEHOLDER = f"<!--csrf-{secrets.token_hex(8)}-->"
HIDDEN_PLACEHOLDER = f"<!--hidden-{secrets.token_hex(8)}-->"
FIELDS_PLACEHOLDER = f"<!--fields-{secrets.token_hex(8)}-->"
# Letters and digits only, so that escaping leaves it as it is.
NAME_PLACEHOLDER = f"gsname{secrets.token_hex(8)}"
MEMBER_FIELDS_KEPT = 256
_member_fields: dict[tuple[Any, ...], tuple[PublicPetition, str]] = {}


def clear_page_cache() -> None:
    _petitions.clear()
    with _lock:
        _pages.clear()
        _member_fields.clear()


def load_public_petition(slug: str) -> PublicPetition:
    """An open or closed petition with its sponsors; drafts and unknown slugs are 404.

    Up to PETITION_CACHE_SECONDS old: signing checks the status afresh itself.
    """
    return _petitions.get(slug, lambda: read_public_petition(slug))


def read_public_petition(slug: str) -> PublicPetition:
    """The same, read from the database now, past the cache."""
    petition = Petition.objects.exclude(status=PetitionStatus.DRAFT).filter(slug=slug).first()
    if petition is None:
        raise Http404("No such petition.")
    sponsor_lists = petition.sponsors_with_lists()
    return PublicPetition(
        petition=petition,
        sponsors=[org for org, mailing_list in sponsor_lists],
        sponsor_lists=sponsor_lists,
        background_html=mark_safe(render_markdown(petition.background)),  # noqa: S308
    )


def cached_public_petition(slug: str) -> PublicPetition | None:
    """What load_public_petition would return now, if it can say without the database."""
    return _petitions.peek(slug)


def last_known_public_petition(slug: str) -> PublicPetition | None:
    """The petition as this process last read it, however long ago: what a signer is
    shown while the database is away."""
    return _petitions.last(slug)


def absolute_url(path: str) -> str:
    return f"{settings.BASE_URL}{path}"


def _escaped(value: Any) -> str:
    """conditional_escape without its lazy-string wrapper: this runs on every page view."""
    return str(value.__html__()) if hasattr(value, "__html__") else html_escape(str(value))


def hidden_inputs(values: dict[str, str]) -> SafeString:
    return mark_safe(  # noqa: S308 (every name and value escaped)
        "".join(
            f'<input type="hidden" name="{_escaped(name)}" value="{_escaped(value)}">'
            for name, value in values.items()
            if value
        )
    )


def csrf_input(request: HttpRequest) -> SafeString:
    return format_html(
        '<input type="hidden" name="csrfmiddlewaretoken" value="{}">', get_token(request)
    )


def landing_attribution(request: HttpRequest) -> dict[str, str]:
    """Source and UTM from the link that brought the visitor, and the page it was on."""
    values = attribution_from(request.GET)
    referer = request.META.get("HTTP_REFERER", "")
    if referer and urlsplit(referer).netloc != request.get_host():
        values["referer"] = attribution_from({"referer": referer})["referer"]
    return values


def consent_context(public: PublicPetition, form: SignForm) -> dict[str, Any]:
    if public.petition.consent_mode == ConsentMode.NOTICE:
        return {
            "notice_sentence": consent.notice_sentence(public.sponsors),
            "privacy_links": [(o, consent.privacy_link_text(o)) for o in public.sponsors],
        }
    return {
        "consent_boxes": [
            (o, bound, consent.explicit_sentence(o), consent.privacy_link_text(o))
            for o, bound in form.consent_boxes()
        ]
    }


UPDATES_SHOWN = 5


def page_context(public: PublicPetition, form: SignForm | None) -> dict[str, Any]:
    petition = public.petition
    snapshot = petition_count(petition)
    context: dict[str, Any] = {
        "petition": petition,
        "sponsors": public.sponsors,
        "background_html": public.background_html,
        "snapshot": snapshot,
        "recent_signers": recent_signers(petition),
        "is_open": petition.status == PetitionStatus.OPEN,
        "page_url": absolute_url(petition.get_absolute_url()),
        "json_url": f"/sign/{petition.slug}.json",
        "form": form,
        "proof_of_work": proof_of_work_for(petition),
        "updates": [
            {
                "title": update.title,
                "html": mark_safe(render_markdown(update.body)),  # noqa: S308 (cleaned by nh3)
                "posted": update.created_at,
            }
            for update in petition.updates.all()[:UPDATES_SHOWN]
        ],
    }
    if form is not None:
        context.update(consent_context(public, form))
    return context


def _cached_page(public: PublicPetition, *, for_member: bool) -> str:
    """The page with placeholders for what is the visitor's own, from the per-process
    cache: for a member, the form's fields too (their name, what they have consented to)."""
    petition = public.petition
    language = get_language() or settings.LANGUAGE_CODE
    snapshot = petition_count(petition)
    recent = recent_signers(petition)
    version = (petition.updated_at, petition.status, snapshot, tuple(recent))
    key = (petition.pk, language, for_member)
    hit = _pages.get(key)
    if hit is not None and hit[0] == version:
        return hit[1]
    form = SignForm(petition=petition, sponsors=public.sponsors)
    context = page_context(public, form)
    context["csrf_field"] = mark_safe(CSRF_PLACEHOLDER)  # noqa: S308
    context["hidden_fields"] = mark_safe(HIDDEN_PLACEHOLDER)  # noqa: S308
    if for_member:
        context["fields_html"] = mark_safe(FIELDS_PLACEHOLDER)  # noqa: S308
    html = render_to_string("petitions/petition.html", context)
    with _lock:
        _pages[key] = (version, html)
    return html


def render_petition_page(request: HttpRequest, public: PublicPetition) -> str:
    """The page as a first-time visitor sees it, from the per-process cache."""
    html = _cached_page(public, for_member=False)
    if public.petition.status != PetitionStatus.OPEN:
        return html
    hidden = landing_attribution(request) | shown_now() | challenge_fields(public.petition)
    return html.replace(CSRF_PLACEHOLDER, csrf_input(request), 1).replace(
        HIDDEN_PLACEHOLDER, hidden_inputs(hidden), 1
    )


def shown_now() -> dict[str, str]:
    """The form's signed "shown at" field, made for this request: the page around it
    is cached, the stamp never is (defences.py)."""
    return {SHOWN_FIELD: form_stamp()}


def shown_again(request: HttpRequest) -> dict[str, str]:
    """The same field on a form shown again after a problem: the stamp it came with,
    while that is genuine and in date (defences.stamp_to_keep)."""
    return {SHOWN_FIELD: stamp_to_keep(request.POST.get(SHOWN_FIELD, ""))}


def render_staff_preview(request: HttpRequest, petition: Petition) -> str:
    """The page of any petition, drafts included, as a first-time visitor will see it,
    marked as a staff preview; its form cannot sign (no CSRF token is given)."""
    sponsor_lists = petition.sponsors_with_lists()
    public = PublicPetition(
        petition=petition,
        sponsors=[org for org, _list in sponsor_lists],
        sponsor_lists=sponsor_lists,
        background_html=mark_safe(render_markdown(petition.background)),  # noqa: S308
    )
    context = page_context(public, SignForm(petition=petition, sponsors=public.sponsors))
    context["staff_preview"] = True
    context["csrf_field"] = ""
    context["hidden_fields"] = ""
    return render_to_string("petitions/petition.html", context, request=request)


def render_petition_errors(request: HttpRequest, public: PublicPetition, form: SignForm) -> str:
    """The page again after a failed submission: values kept, every problem named."""
    context = page_context(public, form)
    context["csrf_field"] = csrf_input(request)
    hidden = attribution_from(request.POST) | shown_again(request)
    if form.member is not None:
        hidden |= {"akid": request.POST.get("akid", ""), "t": request.POST.get("t", "")}
        context["member_first_name"] = form.member.first_name or _("friend")
    else:
        # A new puzzle: the browser solves it again for the address now in the form.
        hidden |= challenge_fields(public.petition)
    context["hidden_fields"] = hidden_inputs(hidden)
    return render_to_string("petitions/petition.html", context, request=request)


def render_sign_unavailable(request: HttpRequest, public: PublicPetition) -> str:
    """The form again, with what the signer typed, after the database could not take
    the signature: nothing here reads the database (the count, updates and recent
    signers are left out)."""
    form = SignForm(request.POST, petition=public.petition, sponsors=public.sponsors)
    context: dict[str, Any] = {
        "petition": public.petition,
        "form": form,
        "csrf_field": csrf_input(request),
        "hidden_fields": hidden_inputs(
            attribution_from(request.POST)
            | shown_again(request)
            # The member's link and the form's "shown at" stamp, as sent.
            | {k: request.POST[k] for k in ("akid", "t", "shown") if request.POST.get(k)}
            | ({} if request.POST.get("akid") else challenge_fields(public.petition))
        ),
        "proof_of_work": proof_of_work_for(public.petition),
        **consent_context(public, form),
    }
    return render_to_string("petitions/sign_unavailable.html", context, request=request)


def consented_organisations(person: Person, sponsors: list[Organisation]) -> set[int]:
    """Which of these organisations the person is subscribed to already."""
    return set(
        Subscription.objects.filter(
            person=person,
            status=SubscriptionStatus.SUBSCRIBED,
            mailing_list__organisation__in=sponsors,
        ).values_list("mailing_list__organisation_id", flat=True)
    )


def render_recognised_page(
    request: HttpRequest,
    public: PublicPetition,
    person: Person,
    token: str,
    link_number: str,
    *,
    consented: Collection[int] | None = None,
) -> str:
    """The page for a member we know by their link: their first name, one click to sign.

    Everything but the form's fields is the page every visitor gets (cached); only
    the fields, which greet the member and show their consent, are rendered here.
    `consented`: the sponsors' ids the member has consented to (recognise() reads
    them with the person); read here when not given.
    """
    if consented is None:
        consented = consented_organisations(person, public.sponsors)
    sponsor_ids = {o.pk for o in public.sponsors}
    # Members differ only in their name, the fields asked of them and their consent:
    # the fields are rendered once per shape, the name put in by replacement.
    language = get_language() or settings.LANGUAGE_CODE
    key = (
        public.petition.pk,
        language,
        asked_of_member(public.petition, person),
        frozenset(consented) & sponsor_ids,
    )
    hit = _member_fields.get(key)
    if hit is not None and hit[0] is public:
        fields = hit[1]
    else:
        form = SignForm(
            petition=public.petition,
            sponsors=public.sponsors,
            member=person,
            consented=consented,
        )
        context = {"petition": public.petition, "form": form}
        context |= consent_context(public, form)
        context["member_first_name"] = NAME_PLACEHOLDER
        fields = render_to_string("petitions/_sign_fields.html", context)
        with _lock:
            if len(_member_fields) >= MEMBER_FIELDS_KEPT:
                _member_fields.clear()
            # Kept with the petition it was built from: a new one (reloaded every
            # PETITION_CACHE_SECONDS) renders afresh.
            _member_fields[key] = (public, fields)
    fields = fields.replace(NAME_PLACEHOLDER, escape(person.first_name or _("friend")))
    hidden = landing_attribution(request) | shown_now() | {"akid": token, "t": link_number}
    return (
        _cached_page(public, for_member=True)
        .replace(CSRF_PLACEHOLDER, csrf_input(request), 1)
        .replace(HIDDEN_PLACEHOLDER, hidden_inputs(hidden), 1)
        .replace(FIELDS_PLACEHOLDER, fields, 1)
    )
