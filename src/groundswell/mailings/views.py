"""Staff compose pages at /staff/mailings/ and the public web version at /mail/.

Thin views: forms parse, actions in actions/ write, rendering.py renders.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_POST

from groundswell.lib.addresses import normalise_email
from groundswell.mailings import links, rendering
from groundswell.mailings.actions import compose, kill_switch, send
from groundswell.mailings.forms import (
    MailingForm,
    ScheduleForm,
    TestSendForm,
)
from groundswell.mailings.models import (
    Mailing,
    MailingQuerySet,
    MailingRecipient,
    MailingStatus,
    RecipientState,
    TrackedLink,
)
from groundswell.mailings.progress import PROGRESS_LINE, progress, progress_line, sent_count
from groundswell.mailings.targeting import count_recipients
from groundswell.members.models import Person
from groundswell.orgs.access import Permission, actor, can, organisation_ids, staff_required

# The preview frame runs nothing and loads nothing: no scripts, no forms, no
# images (the open-tracking image would count staff previews as opens).
PREVIEW_CSP = (
    "sandbox allow-popups allow-popups-to-escape-sandbox; "
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
)


def _page(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    # The admin's app sidebar has nothing to do with mailings and halves the preview.
    base = {**admin.site.each_context(request), "is_nav_sidebar_enabled": False}
    return render(request, template, {**base, **context})


def _mailing(
    request: HttpRequest,
    mailing_id: int,
    permission: Permission = Permission.FIGURES,
    queryset: MailingQuerySet | None = None,
) -> Mailing:
    """The mailing, if the user has this permission in its organisation; else 404."""
    mailings = queryset if queryset is not None else Mailing.objects.all()
    return get_object_or_404(mailings.visible_to(request.user, permission), pk=mailing_id)


def _member(request: HttpRequest, mailing: Mailing, email: str) -> Person | None:
    """A member of the mailing's organisation, if this user may see their details."""
    if not email or not can(request.user, mailing.organisation_id, Permission.PEOPLE):
        return None
    try:
        normalised = normalise_email(email)
    except (ValueError, ValidationError):
        return None
    return (
        Person.objects.known_to([mailing.organisation_id])
        .filter(email_normalised=normalised)
        .first()
    )


def _powers(request: HttpRequest, mailing: Mailing) -> dict[str, bool]:
    """What the page offers: buttons only for what the user may do."""
    return {
        "can_write": can(request.user, mailing.organisation_id, Permission.WRITE),
        "can_see_people": can(request.user, mailing.organisation_id, Permission.PEOPLE),
    }


@staff_required
@require_GET
def mailing_list(request: HttpRequest) -> HttpResponse:
    mailings = list(
        Mailing.objects.visible_to(request.user)
        .select_related("organisation")
        .order_by("-created_at")[:200]
    )
    sent = dict(
        Mailing.objects.filter(pk__in=[m.pk for m in mailings if m.started_at])
        .annotate(sent=sent_count())
        .values_list("pk", "sent")
    )
    rows = [{"mailing": mailing, "sent": sent.get(mailing.pk, 0)} for mailing in mailings]
    context = {
        "rows": rows,
        "title": _("Mailings"),
        "can_write": bool(organisation_ids(request.user, Permission.WRITE)),
    }
    return _page(request, "mailings/staff_list.html", context)


def _form(request: HttpRequest, instance: Mailing | None = None) -> MailingForm:
    return MailingForm(
        request.POST or None,
        instance=instance,
        organisations=organisation_ids(request.user, Permission.WRITE),
    )


@staff_required
def mailing_create(request: HttpRequest) -> HttpResponse:
    if not organisation_ids(request.user, Permission.WRITE):
        raise Http404
    form = _form(request)
    if request.method == "POST" and form.is_valid():
        mailing = compose.do_create_mailing(by=request.user, **form.action_fields())
        messages.success(request, _("The draft is saved."))
        return redirect("mailings:detail", mailing_id=mailing.pk)
    return _page(request, "mailings/staff_form.html", {"form": form, "title": _("New mailing")})


@staff_required
def mailing_edit(request: HttpRequest, mailing_id: int) -> HttpResponse:
    mailing = _mailing(request, mailing_id, Permission.WRITE)
    if mailing.status != MailingStatus.DRAFT:
        messages.error(request, _("Only a draft can be changed."))
        return redirect("mailings:detail", mailing_id=mailing.pk)
    form = _form(request, mailing)
    if request.method == "POST" and form.is_valid():
        try:
            compose.do_update_mailing(mailing, by=request.user, **form.action_fields())
        except compose.ComposeError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("The draft is saved."))
            return redirect("mailings:detail", mailing_id=mailing.pk)
    context = {"form": form, "mailing": mailing, "title": _("Edit mailing")}
    return _page(request, "mailings/staff_form.html", context)


@dataclass(frozen=True)
class _SendButton:
    url_name: str
    label: str | Promise
    css_class: str
    # The model's own question, which the action asks again before it acts.
    shown: Callable[[Mailing], bool]


_SEND_BUTTONS = [
    _SendButton(
        "mailings:unschedule", gettext_lazy("Unschedule"), "button", Mailing.can_unschedule
    ),
    _SendButton("mailings:pause", gettext_lazy("Pause"), "button", Mailing.can_pause),
    _SendButton("mailings:resume", gettext_lazy("Resume"), "button default", Mailing.can_resume),
    _SendButton(
        "mailings:cancel", gettext_lazy("Cancel the send"), "button danger", Mailing.can_cancel
    ),
]


@staff_required
@require_GET
def mailing_detail(request: HttpRequest, mailing_id: int) -> HttpResponse:
    mailing = _mailing(
        request,
        mailing_id,
        queryset=Mailing.objects.select_related("organisation", "petition", "only_signers_of"),
    )
    is_draft = mailing.status in (MailingStatus.DRAFT, MailingStatus.SCHEDULED)
    figures = progress(mailing) if mailing.started_at is not None else None
    context = {
        **_powers(request, mailing),
        "mailing": mailing,
        "title": mailing.subject,
        "recipient_count": count_recipients(mailing) if is_draft else mailing.recipient_count,
        "links": TrackedLink.objects.filter(mailing=mailing).order_by("number"),
        "test_form": TestSendForm(initial={"addresses": request.user.email}),  # type: ignore[union-attr]
        "schedule_form": ScheduleForm(),
        "web_version_path": links.web_version_path(mailing.pk),
        "has_started": figures is not None,
        "progress": figures,
        "progress_line": progress_line(figures) if figures else "",
        "progress_template": PROGRESS_LINE,
        "is_draft": mailing.status == MailingStatus.DRAFT,
        # Copies in doubt exist only once a send has started; its figures count them.
        "unknown_count": figures["unknown"] if figures else 0,
        "send_buttons": [button for button in _SEND_BUTTONS if button.shown(mailing)],
    }
    return _page(request, "mailings/staff_detail.html", context)


@staff_required
@require_GET
def mailing_preview(request: HttpRequest, mailing_id: int) -> HttpResponse:
    mailing = _mailing(request, mailing_id)
    email = request.GET.get("email", "").strip()
    person = _member(request, mailing, email)
    error = ""
    subject = html = text = ""
    if email and person is None:
        error = _("No member has the address %(email)s; showing neutral values.") % {"email": email}
    try:
        subject, html, text = rendering.render_preview(mailing, person)
    except ValueError as problem:
        error = str(problem)
    context = {
        "mailing": mailing,
        "person": person,
        "email": email,
        "subject": subject,
        "text": text,
        "has_html": bool(html),
        "error": error,
        "title": _("Preview"),
        **_powers(request, mailing),
    }
    return _page(request, "mailings/staff_preview.html", context)


@staff_required
@require_GET
@xframe_options_sameorigin
def mailing_preview_html(request: HttpRequest, mailing_id: int) -> HttpResponse:
    mailing = _mailing(request, mailing_id)
    try:
        _subject, html, _text = rendering.render_preview(
            mailing, _member(request, mailing, request.GET.get("email", "").strip())
        )
    except ValueError as problem:
        return HttpResponse(str(problem), content_type="text/plain; charset=utf-8", status=400)
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = PREVIEW_CSP
    response["Referrer-Policy"] = "no-referrer"
    return response


@staff_required
@require_POST
def mailing_test_send(request: HttpRequest, mailing_id: int) -> HttpResponse:
    mailing = _mailing(request, mailing_id, Permission.WRITE)
    form = TestSendForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect("mailings:detail", mailing_id=mailing.pk)
    person = _member(request, mailing, form.cleaned_data["as_member"] or "")
    if form.cleaned_data["as_member"] and person is None:
        messages.error(request, _("No member has that address."))
        return redirect("mailings:detail", mailing_id=mailing.pk)
    try:
        count = compose.do_send_test(
            mailing, form.cleaned_data["addresses"], person=person, by=request.user
        )
    except (ValueError, OSError) as error:
        messages.error(request, _("The test was not sent: %(error)s") % {"error": error})
    else:
        messages.success(
            request,
            ngettext("Test sent to %(count)d address.", "Test sent to %(count)d addresses.", count)
            % {"count": count},
        )
    return redirect("mailings:detail", mailing_id=mailing.pk)


def _send_control(
    request: HttpRequest,
    mailing_id: int,
    action: Callable[..., Mailing],
    done: str,
    **kwargs: Any,
) -> HttpResponse:
    mailing = _mailing(request, mailing_id, Permission.WRITE)
    try:
        action(mailing, **kwargs)
    except ValueError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, done)
    return redirect("mailings:detail", mailing_id=mailing.pk)


def _confirm(request: HttpRequest, mailing_id: int, send_at: Any = None) -> HttpResponse | None:
    """Sending (or scheduling) takes two clicks: the first shows what is about to happen
    (how many people, from whom, which subject) and asks again. None once confirmed."""
    mailing = _mailing(
        request, mailing_id, Permission.WRITE, Mailing.objects.select_related("organisation")
    )
    if request.POST.get("confirmed") == "1":
        return None
    context = {
        "mailing": mailing,
        "title": _("Confirm: %(subject)s") % {"subject": mailing.subject},
        "recipient_count": count_recipients(mailing),
        "send_at": send_at,
        "send_at_value": request.POST.get("send_at", ""),
    }
    return _page(request, "mailings/staff_confirm.html", context)


@staff_required
@require_POST
def mailing_send(request: HttpRequest, mailing_id: int) -> HttpResponse:
    return _confirm(request, mailing_id) or _send_control(
        request, mailing_id, send.do_start_send, _("Sending has started."), actor=actor(request)
    )


@staff_required
@require_POST
def mailing_schedule(request: HttpRequest, mailing_id: int) -> HttpResponse:
    _mailing(request, mailing_id, Permission.WRITE)
    form = ScheduleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the date and time to send at."))
        return redirect("mailings:detail", mailing_id=mailing_id)
    return _confirm(request, mailing_id, form.cleaned_data["send_at"]) or _send_control(
        request,
        mailing_id,
        send.do_schedule_send,
        _("The mailing is scheduled."),
        when=form.cleaned_data["send_at"],
        actor=actor(request),
    )


def _control_view(
    action: Callable[..., Mailing], done: str | Promise
) -> Callable[[HttpRequest, int], HttpResponse]:
    """A staff button that runs one send action on a mailing and says how it went."""

    @staff_required
    @require_POST
    def view(request: HttpRequest, mailing_id: int) -> HttpResponse:
        return _send_control(request, mailing_id, action, str(done), actor=actor(request))

    return view


mailing_unschedule = _control_view(
    send.do_unschedule_send,
    gettext_lazy("The mailing is no longer scheduled: it is a draft again."),
)


@staff_required
@require_POST
def sending_switch(request: HttpRequest) -> HttpResponse:
    """Pause every sending mailing of the organisations this user may write for, or
    resume those the switch paused (`groundswell sending pause-all` in a page)."""
    organisations = organisation_ids(request.user, Permission.WRITE)
    if not organisations:
        raise Http404
    if request.POST.get("action") == "pause-all":
        changed = kill_switch.do_pause_all_sending(
            actor=actor(request), organisations=organisations
        )
        messages.success(request, _("Paused %(count)d mailings.") % {"count": len(changed)})
    elif request.POST.get("action") == "resume-all":
        changed = kill_switch.do_resume_all_sending(
            actor=actor(request), organisations=organisations
        )
        messages.success(request, _("Resumed %(count)d mailings.") % {"count": len(changed)})
    else:
        return HttpResponse(
            _("Choose pause-all or resume-all."), status=400, content_type="text/plain"
        )
    return redirect("mailings:list")


mailing_pause = _control_view(send.do_pause_send, gettext_lazy("Sending is paused."))
mailing_resume = _control_view(send.do_resume_send, gettext_lazy("Sending has resumed."))
mailing_cancel = _control_view(send.do_cancel_send, gettext_lazy("The send is cancelled."))


def unknown_copies(mailing: Mailing) -> QuerySet[MailingRecipient]:
    """The mailing's copies in doubt (see unknown_views.py)."""
    return MailingRecipient.objects.filter(mailing=mailing, state=RecipientState.UNKNOWN)
