"""Markdown to safe HTML: CommonMark with numbered footnotes that link both ways."""

from __future__ import annotations

import re
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from mdit_py_plugins.footnote import footnote_plugin

# A bare web address in running text; trailing punctuation that ends a sentence or
# closes a bracket is not part of it.
_BARE_URL = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}*_"

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "em", "h2", "h3", "h4", "hr", "i", "li",
    "ol", "p", "pre", "section", "strong", "sup", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "id", "title", "aria-label"},
    "li": {"id"},
    "sup": {"id"},
    "section": {"class"},
    "ol": {"class", "start"},
    "hr": {"class"},
}


def _url_end(text: str, start: int, end: int) -> int:
    """Where a bare address really ends: without trailing punctuation, and without a
    closing bracket that has no opening one inside the address."""
    while end > start and text[end - 1] in _TRAILING:
        if text[end - 1] == ")" and text.count("(", start, end) >= text.count(")", start, end):
            break
        end -= 1
    return end


def _linked(text: str, template: Token) -> list[Token] | None:
    """The text token split around the bare web addresses it holds, each made a link."""
    pieces: list[Token] = []
    position = 0
    for match in _BARE_URL.finditer(text):
        end = _url_end(text, match.start(), match.end())
        url = text[match.start() : end]
        if end - match.start() <= len("https://"):
            continue
        if match.start() > position:
            pieces.append(Token("text", "", 0, content=text[position : match.start()]))
        opening = Token("link_open", "a", 1, attrs={"href": url})
        pieces += [opening, Token("text", "", 0, content=url), Token("link_close", "a", -1)]
        position = end
    if not pieces:
        return None
    if position < len(text):
        pieces.append(Token("text", "", 0, content=text[position:]))
    for piece in pieces:
        piece.level = template.level
    return pieces


def _link_bare_addresses(state: StateCore) -> None:
    """A plain web address written in a statement or a footnote becomes a link, as a
    reader expects; addresses already inside a link are left alone."""
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        children: list[Token] = []
        inside_link = 0
        for token in block.children:
            if token.type == "link_open":
                inside_link += 1
            elif token.type == "link_close":
                inside_link -= 1
            replaced = (
                _linked(token.content, token) if token.type == "text" and not inside_link else None
            )
            children.extend(replaced or [token])
        block.children = children


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    # Raw HTML in the source is escaped, not passed through.
    parser = MarkdownIt("commonmark", {"html": False, "typographer": True}).use(footnote_plugin)
    parser.core.ruler.push("link_bare_addresses", _link_bare_addresses)
    return parser


def render_markdown(text: str) -> str:
    """Render staff-written Markdown; the result is cleaned and safe to mark as such."""
    html = _parser().render(text or "")
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )
