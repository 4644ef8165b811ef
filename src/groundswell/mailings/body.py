"""A mailing's body: Markdown with merge fields to clean HTML and plain text with holes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

import nh3
from markdown_it.token import Token

from groundswell.lib.markdown import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, _parser
from groundswell.mailings import merge
from groundswell.mailings.models import LinkKind, Mailing

from .holes import M_OPEN, MERGE_URL, mark
from .links import LinkSpec, Petitions, classify, link_label

_FOOTNOTE_BACKREF = re.compile(r'\s*<a href="#fnref[0-9:]+"[^>]*>.*?</a>', re.DOTALL)


EMAIL_TAGS = ALLOWED_TAGS | {"h1"}
EMAIL_ATTRIBUTES = {
    **ALLOWED_ATTRIBUTES,
    "a": ALLOWED_ATTRIBUTES["a"] | {"class"},
    "p": {"class"},
}


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
            url = MERGE_URL + segment.name
            previous = "".join(out)[-2:]
            # A bare link field becomes an autolink; one in a link's target stays put.
            out.append(url if previous.endswith(("](", "<")) else f"<{url}>")
        else:
            out.append(mark(f"m{len(fields)}"))
            fields.append(segment)
    return "".join(out)


def render_body(mailing: Mailing) -> RenderedBody:
    """The body as clean HTML; each numbered link is a placeholder address."""
    fields: list[merge.MergeField] = []
    source = _markdown_source(mailing.body or "", fields)
    md = _parser()
    env: dict[str, Any] = {}
    tokens = md.parse(source, env)
    petitions = Petitions()
    links: list[LinkSpec] = []
    for index, token in enumerate(tokens):
        children = token.children or []
        for position, child in enumerate(children):
            if child.type != "link_open":
                continue
            href = str(child.attrGet("href") or "")
            found = classify(href, mailing, petitions)
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
                    link_label(children, position),
                )
            )
            placeholder = f"https://link.invalid/{number}/"
            child.attrSet("href", placeholder)
            # An autolink shows its address: show the reader the one they will visit.
            following = children[position + 1] if position + 1 < len(children) else None
            if following is not None and following.type == "text" and following.content == href:
                following.content = mark(f"L{number}")
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
            if not href or href.startswith("#") or text == href or text.startswith(M_OPEN + "L"):
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
