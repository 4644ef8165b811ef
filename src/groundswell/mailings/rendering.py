"""Rendering a mailing: Markdown parsed once, links numbered, per-recipient work kept cheap.

`prepare_mailing(mailing)` does everything that is the same for every reader:
it parses the body, numbers its links t=1, 2, 3… in order and appends the
standard ones (share, web version, profile, unsubscribe), keeps those numbers and
destinations as TrackedLink rows, renders the HTML and text parts through the
email templates, inlines the CSS, encodes the headers that never change, and
compiles each part into a format string whose only holes are the reader's token,
address and merge values. `PreparedMailing.message_bytes(recipient)` fills them.

Links are refreshed only while the mailing is a draft (or scheduled); once its send
has started the rows are frozen and every destination comes from the database,
so a link's number always means the same page, and /go/ can never be pointed
anywhere the mailing did not contain.
"""

from __future__ import annotations

import html
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import css_inline
import nh3
from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from markdown_it.token import Token

from groundswell.lib import mime, signing
from groundswell.lib.markdown import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, _parser
from groundswell.lib.tokens import make_member_token
from groundswell.mailings import merge
from groundswell.mailings.models import (
    LinkKind,
    Mailing,
    MailingRecipient,
    MailingStatus,
    TrackedLink,
)
from groundswell.members.models import Person
from groundswell.petitions.models import Petition

# Links may be renumbered only before the send starts.
EDITABLE_STATUSES = (MailingStatus.DRAFT, MailingStatus.SCHEDULED)

# Private-use characters mark the holes in rendered text: Markdown, nh3, Django's
# escaping and css-inline all pass them through untouched.
_M_OPEN, _M_CLOSE = "\ue000", "\ue001"
_MARKER = re.compile(f"{_M_OPEN}([A-Za-z0-9_]+){_M_CLOSE}")
_LINK_PLACEHOLDER = re.compile(r"https://link\.invalid/(\d+)/")
_MERGE_URL = "https://merge.invalid/"
_FOOTNOTE_BACKREF = re.compile(r'\s*<a href="#fnref[0-9:]+"[^>]*>.*?</a>', re.DOTALL)
# Body after its last horizontal rule (references, footnotes) goes below the signature.
_LAST_RULE = re.compile(r"<hr[^>]*>(?!.*<hr)", re.DOTALL)
_SIGN_PATH = re.compile(r"^/sign/([-a-zA-Z0-9_]+)/?$")

EMAIL_TAGS = ALLOWED_TAGS | {"h1"}
EMAIL_ATTRIBUTES = {
    **ALLOWED_ATTRIBUTES,
    "a": ALLOWED_ATTRIBUTES["a"] | {"class"},
    "p": {"class"},
}

WEB_VERSION = signing.Purpose(salt=b"groundswell.mailing-web-version.v1", length=12, encoding="hex")

URL_FIELD_KINDS = {
    "petition_url": LinkKind.PETITION,
    "profile_url": LinkKind.PROFILE,
    "subscriptions_url": LinkKind.SUBSCRIPTIONS,
    "unsubscribe_url": LinkKind.SUBSCRIPTIONS,
    "web_version_url": LinkKind.WEB_VERSION,
}
# Member pages take the reader's token in the path: /profile/<akid>/?t=<n>.
MEMBER_PAGE_KINDS = (LinkKind.PROFILE, LinkKind.SUBSCRIPTIONS)


class RenderError(ValueError):
    """The mailing cannot be rendered as written; the message tells staff why."""


class LinksFrozen(RenderError):
    """The mailing's links no longer match the rows frozen when its send started."""


def _mark(key: str) -> str:
    return f"{_M_OPEN}{key}{_M_CLOSE}"


def _base() -> str:
    return str(settings.BASE_URL)


def _host() -> str:
    return urlsplit(_base()).hostname or "localhost"


# ---------------------------------------------------------------------------
# The public web version's stable address


def web_version_path(mailing_id: int) -> str:
    return f"/mail/{mailing_id}-{signing.sign(WEB_VERSION, str(mailing_id))}/"


def web_version_url(mailing_id: int) -> str:
    return _base() + web_version_path(mailing_id)


def is_web_version_tag(mailing_id: int, tag: str) -> bool:
    return signing.verify(WEB_VERSION, str(mailing_id), tag)


# ---------------------------------------------------------------------------
# Links


@dataclass(frozen=True)
class LinkSpec:
    number: int
    kind: str
    url: str
    petition_id: int | None = None
    petition_slug: str = ""
    label: str = ""

    def href(self, mailing_id: int, *, personal: bool) -> tuple[str, str]:
        """(before the token, after the token); the token goes between them."""
        base = _base()
        if self.kind == LinkKind.PETITION and self.petition_slug:
            path = f"{base}/sign/{self.petition_slug}/?t={self.number}"
            return (f"{path}&akid=", "") if personal else (path, "")
        if self.kind in MEMBER_PAGE_KINDS:
            if personal:
                return self.url, f"/?t={self.number}"
            # Nobody to name in a web version: the privacy page explains the choices.
            return f"{base}/privacy/", ""
        go = f"{base}/go/{mailing_id}/{self.number}/"
        return (f"{go}?akid=", "") if personal else (go, "")


def _share_target(petition: Petition, mailing_id: int, network: str) -> str:
    query = urlencode(
        {
            "source": f"share-{network}",
            "utm_source": network,
            "utm_medium": "social",
            "utm_campaign": f"mailing-{mailing_id}",
        }
    )
    return f"{_base()}{petition.get_absolute_url()}?{query}"


def _standard_links(mailing: Mailing, first: int) -> list[LinkSpec]:
    links: list[LinkSpec] = []
    number = first
    petition = mailing.petition
    if petition is not None:
        text = petition.share_text or petition.title
        facebook = "https://www.facebook.com/sharer/sharer.php?u=" + quote(
            _share_target(petition, mailing.pk, "facebook"), safe=""
        )
        x = "https://x.com/intent/tweet?" + urlencode(
            {"text": text, "url": _share_target(petition, mailing.pk, "x")}
        )
        for url, label in ((facebook, "Facebook"), (x, "X")):
            links.append(LinkSpec(number, LinkKind.SHARE, url, petition.pk, "", label))
            number += 1
    base = _base()
    links.append(
        LinkSpec(number, LinkKind.WEB_VERSION, web_version_url(mailing.pk), label="web version")
    )
    links.append(LinkSpec(number + 1, LinkKind.PROFILE, f"{base}/profile/", label="profile"))
    links.append(
        LinkSpec(number + 2, LinkKind.SUBSCRIPTIONS, f"{base}/unsubscribe/", label="unsubscribe")
    )
    return links


class _Petitions:
    """Petitions named by links, looked up once per slug."""

    def __init__(self) -> None:
        self.by_slug: dict[str, Petition | None] = {}

    def get(self, slug: str) -> Petition | None:
        if slug not in self.by_slug:
            self.by_slug[slug] = Petition.objects.filter(slug=slug).first()
        return self.by_slug[slug]


def _classify(
    href: str, mailing: Mailing, petitions: _Petitions
) -> tuple[str, str, Petition | None] | None:
    """(kind, destination, petition) for a link in the body; None leaves it unnumbered."""
    if href.startswith(_MERGE_URL):
        name = href[len(_MERGE_URL) :]
        kind = URL_FIELD_KINDS[name]
        base = _base()
        if kind == LinkKind.PETITION:
            if mailing.petition is None:
                raise RenderError(
                    _("The body uses {{ petition_url }}: choose the mailing's petition first.")
                )
            return kind, base + mailing.petition.get_absolute_url(), mailing.petition
        if kind == LinkKind.WEB_VERSION:
            return kind, web_version_url(mailing.pk), None
        path = {"profile_url": "/profile/", "subscriptions_url": "/subscriptions/"}.get(
            name, "/unsubscribe/"
        )
        return kind, base + path, None
    if "%EE%80%80" in href.upper():
        raise RenderError(
            _("Merge fields cannot be part of a link's address; use {{ petition_url }} and the "
              "other link fields, or a plain address.")
        )  # fmt: skip
    if href.startswith("#") or href.startswith("mailto:"):
        return None
    base = _base()
    if href.startswith("//"):
        href = "https:" + href
    elif href.startswith("/"):
        href = base + href
    parts = urlsplit(href)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    if f"{parts.scheme}://{parts.netloc}" == base:
        match = _SIGN_PATH.match(parts.path)
        petition = petitions.get(match.group(1)) if match else None
        if petition is not None:
            return LinkKind.PETITION, base + petition.get_absolute_url(), petition
    return LinkKind.EXTERNAL, href, None


def _link_label(children: list[Token], start: int) -> str:
    label = []
    for child in children[start + 1 :]:
        if child.type == "link_close":
            break
        if child.type in ("text", "code_inline"):
            label.append(child.content)
    text = _MARKER.sub("…", "".join(label)).strip()
    return text[:300]


# ---------------------------------------------------------------------------
# The body: Markdown with merge fields to HTML and text with holes


@dataclass
class RenderedBody:
    html: str
    fields: list[merge.MergeField]
    links: list[LinkSpec]


def _markdown_source(body: str, fields: list[merge.MergeField]) -> str:
    out: list[str] = []
    for segment in merge.parse(body.replace("\r\n", "\n")):
        if isinstance(segment, str):
            out.append(segment)
        elif segment.is_url:
            url = _MERGE_URL + segment.name
            previous = "".join(out)[-2:]
            # A bare link field becomes an autolink; one in a link's target stays put.
            out.append(url if previous.endswith(("](", "<")) else f"<{url}>")
        else:
            out.append(_mark(f"m{len(fields)}"))
            fields.append(segment)
    return "".join(out)


def render_body(mailing: Mailing) -> RenderedBody:
    """The body as clean HTML; each numbered link is a placeholder address."""
    fields: list[merge.MergeField] = []
    source = _markdown_source(mailing.body or "", fields)
    md = _parser()
    env: dict[str, Any] = {}
    tokens = md.parse(source, env)
    petitions = _Petitions()
    links: list[LinkSpec] = []
    for index, token in enumerate(tokens):
        children = token.children or []
        for position, child in enumerate(children):
            if child.type != "link_open":
                continue
            href = str(child.attrGet("href") or "")
            found = _classify(href, mailing, petitions)
            if found is None:
                if not href.startswith(("#", "mailto:")):
                    # Nothing we cannot number reaches the reader as a link.
                    child.attrs.pop("href", None)
                continue
            kind, url, petition = found
            number = len(links) + 1
            links.append(
                LinkSpec(
                    number,
                    kind,
                    url,
                    petition.pk if petition else None,
                    petition.slug if petition else "",
                    _link_label(children, position),
                )
            )
            placeholder = f"https://link.invalid/{number}/"
            child.attrSet("href", placeholder)
            # An autolink shows its address: show the reader the one they will visit.
            following = children[position + 1] if position + 1 < len(children) else None
            if following is not None and following.type == "text" and following.content == href:
                following.content = _mark(f"L{number}")
            if kind == LinkKind.PETITION and _is_alone_in_paragraph(tokens, index, children):
                child.attrSet("class", "button")
                tokens[index - 1].attrSet("class", "cta")
    rendered = md.renderer.render(tokens, md.options, env)
    rendered = _FOOTNOTE_BACKREF.sub("", rendered)
    clean = nh3.clean(
        rendered,
        tags=EMAIL_TAGS,
        attributes=EMAIL_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel=None,
    )
    return RenderedBody(html=clean, fields=fields, links=links)


def _is_alone_in_paragraph(tokens: list[Token], index: int, children: list[Token]) -> bool:
    """A paragraph holding one link and nothing else reads as a call to action."""
    if index == 0 or tokens[index - 1].type != "paragraph_open":
        return False
    kinds = [c.type for c in children if not (c.type == "text" and not c.content.strip())]
    return (
        kinds[:1] == ["link_open"]
        and kinds[-1:] == ["link_close"]
        and kinds.count("link_open") == 1
    )


class _TextWriter(HTMLParser):
    """The text alternative, written from the same HTML the reader sees."""

    BLOCKS = {"p", "h1", "h2", "h3", "h4", "blockquote", "section", "ul", "ol", "hr", "pre"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.lists: list[list[int | None]] = []
        self.link: tuple[str, list[str]] | None = None
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        after_marker = bool(re.search(r"(^|\n) *(-|[0-9]+\.) $", "".join(self.out[-2:])))
        if tag in self.BLOCKS and not (tag == "p" and after_marker):
            self.block()
        if tag == "hr":
            self.out.append("----\n\n")
        elif tag == "br":
            self.out.append("\n")
        elif tag in ("ul", "ol"):
            start = int(attributes.get("start") or 1) if tag == "ol" else None
            self.lists.append([start])
        elif tag == "li":
            self.newline()
            counter = self.lists[-1] if self.lists else [None]
            indent = "   " * max(len(self.lists) - 1, 0)
            if counter[0] is None:
                self.out.append(f"{indent}- ")
            else:
                self.out.append(f"{indent}{counter[0]}. ")
                counter[0] += 1
        elif tag == "a":
            self.link = (attributes.get("href") or "", [])
        elif tag in ("style", "title"):
            self.skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("ul", "ol") and self.lists:
            self.lists.pop()
            self.block()
        elif tag in self.BLOCKS:
            self.block()
        elif tag == "li":
            self.newline()
        elif tag == "a" and self.link is not None:
            href, parts = self.link
            self.link = None
            text = "".join(parts).strip()
            if not href or href.startswith("#") or text == href or text.startswith(_M_OPEN + "L"):
                self.out.append(text or href)
            elif text:
                self.out.append(f"{text} ({href})")
            else:
                self.out.append(href)
        elif tag in ("style", "title"):
            self.skip -= 1

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        data = re.sub(r"\s+", " ", data)
        if not "".join(self.out[-1:]).strip() or self.out[-1].endswith("\n"):
            data = data.lstrip()
        if self.link is not None:
            self.link[1].append(data)
        else:
            self.out.append(data)

    def newline(self) -> None:
        if self.out and not self.out[-1].endswith("\n"):
            self.out.append("\n")

    def block(self) -> None:
        text = "".join(self.out).rstrip(" ")
        if text and not text.endswith("\n\n"):
            text = text.rstrip("\n") + "\n\n"
        self.out = [text]

    def text(self) -> str:
        lines = "".join(self.out).split("\n")
        return re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in lines)).strip()


def html_to_text(fragment: str) -> str:
    writer = _TextWriter()
    writer.feed(fragment)
    writer.close()
    return writer.text()


# ---------------------------------------------------------------------------
# Freezing the numbers


def _sync_links(mailing: Mailing, specs: list[LinkSpec], *, editable: bool) -> list[LinkSpec]:
    """Keep the numbers as TrackedLink rows; once sending, read them back and insist."""
    with transaction.atomic():
        rows = {
            row.number: row
            for row in TrackedLink.objects.select_for_update(of=("self",))
            .filter(mailing=mailing)
            .select_related("petition")
        }
        if not editable and rows:
            return _frozen(specs, rows)
        wanted = {spec.number for spec in specs}
        for spec in specs:
            row = rows.get(spec.number)
            values = {
                "kind": spec.kind,
                "url": spec.url,
                "petition_id": spec.petition_id,
                "label": spec.label,
            }
            if row is None:
                try:
                    with transaction.atomic():
                        TrackedLink.objects.create(mailing=mailing, number=spec.number, **values)
                except IntegrityError:
                    # Another process froze the same links at the same moment.
                    if editable:
                        raise
                    return _sync_links(mailing, specs, editable=False)
            elif any(getattr(row, key) != value for key, value in values.items()):
                for key, value in values.items():
                    setattr(row, key, value)
                row.save(update_fields=[*values])
        extra = [number for number in rows if number not in wanted]
        if extra:
            TrackedLink.objects.filter(mailing=mailing, number__in=extra).delete()
    return specs


def _frozen(specs: list[LinkSpec], rows: Mapping[int, TrackedLink]) -> list[LinkSpec]:
    if len(rows) != len(specs):
        raise LinksFrozen(_("The mailing's links changed after its send started."))
    frozen = []
    for spec in specs:
        row = rows.get(spec.number)
        if row is None or row.kind != spec.kind or row.url != spec.url:
            raise LinksFrozen(_("The mailing's links changed after its send started."))
        frozen.append(
            LinkSpec(
                number=row.number,
                kind=row.kind,
                url=row.url,
                petition_id=row.petition_id,
                petition_slug=row.petition.slug if row.petition else "",
                label=row.label,
            )
        )
    return frozen


# ---------------------------------------------------------------------------
# Compiling rendered text into per-recipient format strings


def _compile(
    rendered: str,
    links: Mapping[int, LinkSpec],
    mailing_id: int,
    *,
    html_part: bool,
    personal: bool,
) -> str:
    """Turn marked text into a str.format template whose holes are per-recipient values."""

    def escape(value: str) -> str:
        return html.escape(value) if html_part else value

    rendered = _LINK_PLACEHOLDER.sub(lambda m: _mark(f"L{m.group(1)}"), rendered)
    out: list[str] = []
    position = 0
    for match in _MARKER.finditer(rendered):
        out.append(_literal(rendered[position : match.start()]))
        key = match.group(1)
        if key.startswith("L"):
            before, after = links[int(key[1:])].href(mailing_id, personal=personal)
            if personal:
                out.append(_literal(escape(before)) + "{token}" + _literal(escape(after)))
            else:
                out.append(_literal(escape(before + after)))
        elif key == "pixel":
            prefix = f"{_base()}/o/{mailing_id}/"
            out.append(_literal(escape(prefix)) + "{token}.gif" if personal else "")
        else:
            out.append("{" + key + "}")
        position = match.end()
    out.append(_literal(rendered[position:]))
    return "".join(out)


def _literal(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


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
        body_count = len(self.links) - len(_standard_links(mailing, 1))
        standard = self.links[body_count:]
        share = [s for s in standard if s.kind == LinkKind.SHARE]

        def link(kind: str) -> str:
            spec = next(s for s in standard if s.kind == kind)
            return _mark(f"L{spec.number}")

        postal_lines = [line.strip() for line in org.postal_address.splitlines() if line.strip()]
        if postal_lines and postal_lines[0] == org.name:
            postal_lines = postal_lines[1:]
        preheader = "".join(
            segment if isinstance(segment, str) else _mark(f"m{self._field_index(segment)}")
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
            "share_links": [(s.label, _mark(f"L{s.number}")) for s in share],
            "petition": mailing.petition,
            "web_version_link": link(LinkKind.WEB_VERSION),
            "profile_link": link(LinkKind.PROFILE),
            "unsubscribe_link": link(LinkKind.SUBSCRIPTIONS),
            "privacy_policy_url": org.privacy_policy_url,
            "email_address": _mark("email"),
            "open_pixel": _mark("pixel"),
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
            _compile(html_doc, links, mailing_id, html_part=True, personal=personal),
            _compile(text_doc, links, mailing_id, html_part=False, personal=personal),
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
            "List-Id: " + mime.encode_address(org.name, f"{org.slug}.lists.{_host()}"),
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
        return f"<{self.mailing.pk}.{recipient_id}.{secrets.token_hex(8)}@{_host()}>"

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
    ) -> bytes:
        """The whole RFC 5322 message for one recipient, ready for SMTP's DATA."""
        person = recipient.person
        if person is None:
            raise RenderError("This recipient was erased: there is no one to send to.")
        token = make_member_token(person.pk, self.mailing.pk)
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
            head.append(f"List-Unsubscribe: <{_base()}/unsubscribe/{token}/>\r\n")
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
    specs = body.links + _standard_links(mailing, len(body.links) + 1)
    editable = mailing.status in EDITABLE_STATUSES
    if persist_links or not editable:
        specs = _sync_links(mailing, specs, editable=editable)
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
    token = make_member_token(person.pk, mailing.pk)
    html_part, text_part = prepared.parts(person, person.email, token)
    return prepared.subject_for("A", person, person.email), html_part, text_part


def render_web_version(mailing: Mailing) -> str:
    """The public copy: neutral values, no address, no tokens, no tracking image."""
    prepared = prepare_mailing(mailing, persist_links=False)
    html_fmt, _text = prepared.web_templates
    values, _text_values = prepared._values(None, "", "")
    return html_fmt.format_map(values)
