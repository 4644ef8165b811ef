"""Rendering a mailing: Markdown parsed once, links numbered, per-recipient work kept cheap.

`prepare_mailing(mailing)` does everything that is the same for every reader:
it parses the body, numbers its links t=1, 2, 3… in order and appends the
standard ones (share, web version, profile, unsubscribe), keeps those numbers and
destinations as TrackedLink rows, renders the HTML and text parts through the
email templates, inlines the CSS, encodes the headers that never change, and
compiles each part into a format string whose only holes are the reader's token,
address and merge values. `PreparedMailing.message_bytes(recipient)` fills them.

Links are numbered and kept by links.py, the body is rendered by body.py, and
compiling.py turns rendered text into format strings; this module puts them together
into one prepared mailing and renders previews and the web version.
"""

from __future__ import annotations

import html
import re
import secrets
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import css_inline
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from groundswell.lib import mime
from groundswell.lib.tokens import PREVIEW_TOKEN, make_member_token
from groundswell.mailings import merge
from groundswell.mailings.models import LinkKind, Mailing, MailingRecipient
from groundswell.members.models import Person

from .body import html_to_text, render_body
from .compiling import compile_holes
from .holes import mark, site_base, site_host
from .links import EDITABLE_STATUSES, LinkSpec, RenderError, standard_links, sync_links

# Body after its last horizontal rule (references, footnotes) goes below the signature.
_LAST_RULE = re.compile(r"<hr[^>]*>(?!.*<hr)", re.DOTALL)
_INLINER = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)


@dataclass
class PreparedMailing:
    mailing: Mailing
    links: list[LinkSpec]
    fields: list[merge.MergeField]
    body_html: str
    subjects: dict[str, list[merge.Segment]]
    dkim: mime.DkimKey | None = None
    boundary: str = field(default_factory=mime.new_boundary)
    _dates: mime.DateHeader = field(default_factory=mime.DateHeader)

    # -- templates, rendered once each --------------------------------------

    def _context(self, *, personal: bool, web: bool) -> dict[str, Any]:
        mailing = self.mailing
        org = mailing.organisation
        body_count = len(self.links) - len(standard_links(mailing, 1))
        standard = self.links[body_count:]
        share = [s for s in standard if s.kind == LinkKind.SHARE]

        def link(kind: str) -> str:
            spec = next(s for s in standard if s.kind == kind)
            return mark(f"L{spec.number}")

        postal_lines = [line.strip() for line in org.postal_address.splitlines() if line.strip()]
        if postal_lines and postal_lines[0] == org.name:
            postal_lines = postal_lines[1:]
        preheader = "".join(
            segment if isinstance(segment, str) else mark(f"m{self._field_index(segment)}")
            for segment in merge.parse(mailing.preheader or "")
        )
        body_html, notes_html = self.body_html, ""
        rule = _LAST_RULE.search(body_html)
        if rule is not None:
            body_html, notes_html = body_html[: rule.start()], body_html[rule.end() :]
        return {
            "mailing": mailing,
            "organisation": org,
            "postal_lines": postal_lines,
            "year": timezone.now().year,
            "preheader": preheader,
            "body_html": mark_safe(body_html),  # noqa: S308 - cleaned by nh3 above
            "body_text": html_to_text(body_html),
            "notes_html": mark_safe(notes_html),  # noqa: S308 - cleaned by nh3 above
            "notes_text": html_to_text(notes_html),
            "signoff_name": mailing.signoff_name,
            "signoff_title": mailing.signoff_title,
            "signoff_organisation": mailing.signoff_organisation,
            "share_links": [(s.label, mark(f"L{s.number}")) for s in share],
            "petition": mailing.petition,
            "web_version_link": link(LinkKind.WEB_VERSION),
            "profile_link": link(LinkKind.PROFILE),
            "unsubscribe_link": link(LinkKind.SUBSCRIPTIONS),
            "privacy_policy_url": org.privacy_policy_url,
            "email_address": mark("email"),
            "open_pixel": mark("pixel"),
            "personal": personal,
            "web": web,
            "lang": settings.LANGUAGE_CODE,
        }

    def _field_index(self, field_: merge.MergeField) -> int:
        for index, known in enumerate(self.fields):
            if known == field_:
                return index
        self.fields.append(field_)
        return len(self.fields) - 1

    def _render(self, *, personal: bool, web: bool) -> tuple[str, str]:
        context = self._context(personal=personal, web=web)
        html_doc = _INLINER.inline(render_to_string("mailings/email.html", context))
        text_doc = render_to_string("mailings/email.txt", context)
        links = {spec.number: spec for spec in self.links}
        mailing_id = self.mailing.pk
        return (
            compile_holes(html_doc, links, mailing_id, html_part=True, personal=personal),
            compile_holes(text_doc, links, mailing_id, html_part=False, personal=personal),
        )

    @cached_property
    def member_templates(self) -> tuple[str, str]:
        return self._render(personal=True, web=False)

    @cached_property
    def neutral_templates(self) -> tuple[str, str]:
        return self._render(personal=False, web=False)

    @cached_property
    def web_templates(self) -> tuple[str, str]:
        return self._render(personal=False, web=True)

    @cached_property
    def member_programs(self) -> tuple[mime.QpProgram, mime.QpProgram]:
        html_fmt, text_fmt = self.member_templates
        return mime.qp_program(html_fmt), mime.qp_program(text_fmt)

    @cached_property
    def neutral_programs(self) -> tuple[mime.QpProgram, mime.QpProgram]:
        html_fmt, text_fmt = self.neutral_templates
        return mime.qp_program(html_fmt), mime.qp_program(text_fmt)

    # -- headers, encoded once -------------------------------------------------

    @cached_property
    def encoded_from(self) -> str:
        return mime.encode_address(self.mailing.from_name, self.mailing.from_email)

    @cached_property
    def encoded_subjects(self) -> dict[str, str | None]:
        """Per variant, the encoded subject, or None when it has merge fields."""
        return {
            variant: (
                mime.encode_text("".join(s for s in segments if isinstance(s, str)))
                if all(isinstance(s, str) for s in segments)
                else None
            )
            for variant, segments in self.subjects.items()
        }

    @cached_property
    def static_headers(self) -> str:
        mailing = self.mailing
        org = mailing.organisation
        lines = [
            "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
            "List-Id: " + mime.encode_address(org.name, f"{org.slug}.lists.{site_host()}"),
        ]
        if mailing.reply_to:
            lines.append("Reply-To: " + mime.one_line(mailing.reply_to))
        lines += [
            "MIME-Version: 1.0",
            f'Content-Type: multipart/alternative; boundary="{self.boundary}"',
        ]
        return "\r\n".join(lines) + "\r\n"

    # -- per recipient ---------------------------------------------------------

    def new_message_id(self, recipient_id: int | str) -> str:
        return f"<{self.mailing.pk}.{recipient_id}.{secrets.token_hex(8)}@{site_host()}>"

    def _values(
        self, person: Person | None, email: str, token: str
    ) -> tuple[dict[str, str], dict[str, str]]:
        """(html, text) template values for one reader; each merge field is evaluated once."""
        merge_values = _subject_values(person, email)
        text_values = {
            f"m{index}": _neutral(field_) if merge_values is None else field_.evaluate(merge_values)
            for index, field_ in enumerate(self.fields)
        }
        text_values["email"] = email
        html_values = {name: html.escape(value) for name, value in text_values.items()}
        html_values["token"] = text_values["token"] = token
        return html_values, text_values

    def parts(self, person: Person | None, email: str, token: str = "") -> tuple[str, str]:
        """(html, text) for one reader; without a person, the neutral version."""
        html_fmt, text_fmt = self.member_templates if person is not None else self.neutral_templates
        html_values, text_values = self._values(person, email, token)
        return html_fmt.format_map(html_values), text_fmt.format_map(text_values)

    def message_bytes(
        self,
        recipient: MailingRecipient,
        *,
        message_id: str | None = None,
        subject_prefix: str = "",
        preview: bool = False,
    ) -> bytes:
        """The whole RFC 5322 message for one recipient, ready for SMTP's DATA. A
        `preview` (a staff test copy) has the member's name and greeting but carries
        PREVIEW_TOKEN, not their working token."""
        person = recipient.person
        if person is None:
            raise RenderError("This recipient was erased: there is no one to send to.")
        token = PREVIEW_TOKEN if preview else make_member_token(person.pk, self.mailing.pk)
        return self._message(
            person=person,
            email=recipient.email,
            token=token,
            variant=recipient.variant or "A",
            message_id=message_id or recipient.message_id or self.new_message_id(recipient.pk),
            subject_prefix=subject_prefix,
        )

    def neutral_message_bytes(
        self, email: str, *, message_id: str | None = None, subject_prefix: str = ""
    ) -> bytes:
        """A copy that names no member: no token, no personal links (for test sends)."""
        return self._message(
            person=None,
            email=email,
            token="",
            variant="A",
            message_id=message_id or self.new_message_id("test"),
            subject_prefix=subject_prefix,
        )

    def _message(
        self,
        *,
        person: Person | None,
        email: str,
        token: str,
        variant: str,
        message_id: str,
        subject_prefix: str,
    ) -> bytes:
        mime.one_line(email)
        mime.one_line(message_id)
        html_program, text_program = (
            self.member_programs if person is not None else self.neutral_programs
        )
        html_values, text_values = self._values(person, email, token)
        key = variant if variant in self.subjects else "A"
        subject = self.encoded_subjects[key]
        if subject is None or subject_prefix:
            subject = mime.encode_text(subject_prefix + self.subject_for(key, person, email))
        head = [
            f"From: {self.encoded_from}\r\n",
            f"To: {email}\r\n",
            f"Subject: {subject}\r\n",
            f"Date: {self._dates.now()}\r\n",
            f"Message-ID: {message_id}\r\n",
        ]
        if token:
            head.append(f"List-Unsubscribe: <{site_base()}/unsubscribe/{token}/>\r\n")
        head.append(self.static_headers)
        message = (
            "".join(head).encode("utf-8")
            + mime.CRLF
            + mime.multipart_alternative(
                self.boundary,
                mime.run_qp_program(text_program, text_values),
                mime.run_qp_program(html_program, html_values),
            )
        )
        if self.dkim is not None:
            message = mime.dkim_sign(message, self.dkim)
        return message

    def subject_for(self, variant: str, person: Person | None, email: str) -> str:
        key = variant if variant in self.subjects else "A"
        values = _subject_values(person, email)
        return "".join(
            s if isinstance(s, str) else (s.evaluate(values) if values else _neutral(s))
            for s in self.subjects[key]
        )


def _subject_values(person: Person | None, email: str) -> dict[str, str] | None:
    if person is None:
        return None
    return {"first_name": person.first_name, "last_name": person.last_name, "email": email}


def _neutral(field_: merge.MergeField) -> str:
    """What a field shows when there is no reader: its own fallback, or a plain word."""
    if any(name == "default" for name, _arg in field_.filters):
        return field_.evaluate({})
    neutral = {"first_name": _("friend")}
    return field_.evaluate({field_.name: neutral.get(field_.name, "")})


# ---------------------------------------------------------------------------
# Entry points


def prepare_mailing(mailing: Mailing, *, persist_links: bool = True) -> PreparedMailing:
    """Everything about a mailing that is the same for every reader.

    Draft and scheduled mailings get their TrackedLink rows created or refreshed
    (unless persist_links is False, as for an on-screen preview); once the send
    has started, existing rows are read back and must match.
    """
    mailing = (
        Mailing.objects.select_related("organisation", "petition").get(pk=mailing.pk)
        if mailing.pk
        else mailing
    )
    body = render_body(mailing)
    specs = body.links + standard_links(mailing, len(body.links) + 1)
    editable = mailing.status in EDITABLE_STATUSES
    if persist_links or not editable:
        specs = sync_links(mailing, specs, editable=editable)
    subjects: dict[str, list[merge.Segment]] = {"A": merge.parse(mailing.subject)}
    if mailing.subject_b:
        subjects["B"] = merge.parse(mailing.subject_b)
    for segments in subjects.values():
        for segment in segments:
            if isinstance(segment, merge.MergeField) and segment.is_url:
                raise RenderError(_("Link fields cannot be used in the subject."))
    return PreparedMailing(
        mailing=mailing,
        links=specs,
        fields=body.fields,
        body_html=body.html,
        subjects=subjects,
        dkim=mime.DkimKey.from_settings(
            getattr(settings, "DKIM_SELECTOR", ""),
            getattr(settings, "DKIM_DOMAIN", ""),
            getattr(settings, "DKIM_PRIVATE_KEY_PATH", ""),
        ),
    )


def render_preview(mailing: Mailing, person: Person | None) -> tuple[str, str, str]:
    """(subject, html, text) as this member would receive it, without saving anything."""
    prepared = prepare_mailing(mailing, persist_links=False)
    if person is None:
        html_part, text_part = prepared.parts(None, "", "")
        return prepared.subject_for("A", None, ""), html_part, text_part
    # Staff see the member's copy, but its links must not act as the member's link.
    html_part, text_part = prepared.parts(person, person.email, PREVIEW_TOKEN)
    return prepared.subject_for("A", person, person.email), html_part, text_part


def render_web_version(mailing: Mailing) -> str:
    """The public copy: neutral values, no address, no tokens, no tracking image."""
    prepared = prepare_mailing(mailing, persist_links=False)
    html_fmt, _text = prepared.web_templates
    values, _text_values = prepared._values(None, "", "")
    return html_fmt.format_map(values)
