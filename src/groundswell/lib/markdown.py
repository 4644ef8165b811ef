"""Markdown to safe HTML: CommonMark with numbered footnotes that link both ways."""

from __future__ import annotations

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from mdit_py_plugins.footnote import footnote_plugin

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


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    # Raw HTML in the source is escaped, not passed through.
    return MarkdownIt("commonmark", {"html": False, "typographer": True}).use(footnote_plugin)


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
