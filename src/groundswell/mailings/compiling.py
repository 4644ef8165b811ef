"""Compiling a rendered mailing into format strings whose holes are a reader's values.

Rendering (rendering.py) fills a mailing once for every reader, leaving a marked hole
(holes.py) for each value that differs per reader and a placeholder URL for each
numbered link (links.py). `compile_holes` turns that text into a `str.format`
template: literal braces doubled, each link its destination with the reader's token
in it, the open-tracking image's address, and a named hole for every other value.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

from .holes import MARKER, mark, site_base
from .links import LinkSpec

_LINK_PLACEHOLDER = re.compile(r"https://link\.invalid/(\d+)/")


def compile_holes(
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

    rendered = _LINK_PLACEHOLDER.sub(lambda m: mark(f"L{m.group(1)}"), rendered)
    out: list[str] = []
    position = 0
    for match in MARKER.finditer(rendered):
        out.append(_literal(rendered[position : match.start()]))
        key = match.group(1)
        if key.startswith("L"):
            before, after = links[int(key[1:])].href(mailing_id, personal=personal)
            if personal:
                out.append(_literal(escape(before)) + "{token}" + _literal(escape(after)))
            else:
                out.append(_literal(escape(before + after)))
        elif key == "pixel":
            prefix = f"{site_base()}/o/{mailing_id}/"
            out.append(_literal(escape(prefix)) + "{token}.gif" if personal else "")
        else:
            out.append("{" + key + "}")
        position = match.end()
    out.append(_literal(rendered[position:]))
    return "".join(out)


def _literal(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")
