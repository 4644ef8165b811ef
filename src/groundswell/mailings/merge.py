"""Merge fields in mailings: a sandbox that knows our fields and filters and nothing else.

`{{ first_name|default:"friend" }}` is a field with filters. There are no template
tags, no attribute access and no way to reach anything but the values a mailing
hands over per recipient. Anything else is refused when staff save the mailing,
with a message that says what is wrong and what is allowed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from django.utils.translation import gettext as _

# Values per recipient; web versions and neutral test sends use the defaults.
TEXT_FIELDS = ("first_name", "last_name", "email")
# Links: each use becomes a numbered, tracked link carrying the reader's token.
URL_FIELDS = (
    "petition_url",
    "profile_url",
    "subscriptions_url",
    "unsubscribe_url",
    "web_version_url",
)
FIELDS = TEXT_FIELDS + URL_FIELDS

FILTERS: dict[str, Callable[[str], str]] = {
    "upper": str.upper,
    "lower": str.lower,
    "title": str.title,
    "capfirst": lambda value: value[:1].upper() + value[1:],
}
FILTERS_WITH_ARGUMENT = ("default",)

_OPEN = re.compile(r"\{\{|\{%|\{#")
_FIELD = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_NAME = re.compile(r"[a-z_]+")
_FILTER = re.compile(r"\|\s*([a-z_]+)\s*(?::\s*(\"[^\"\r\n]*\"|'[^'\r\n]*'))?\s*")
# Control characters have no business in a name and would break lines in headers.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class MergeError(ValueError):
    """Staff wrote something the sandbox does not allow; the message says what."""


@dataclass(frozen=True)
class MergeField:
    name: str
    filters: tuple[tuple[str, str | None], ...] = ()
    source: str = ""

    @property
    def is_url(self) -> bool:
        return self.name in URL_FIELDS

    def evaluate(self, values: Mapping[str, str]) -> str:
        value = _CONTROL.sub(" ", values.get(self.name, "")).strip()
        for name, argument in self.filters:
            value = value or (argument or "") if name == "default" else FILTERS[name](value)
        return value


Segment = str | MergeField


def _allowed_message() -> str:
    return _("Allowed fields: %(fields)s. Allowed filters: %(filters)s.") % {
        "fields": ", ".join(FIELDS),
        "filters": ", ".join(('default:"…"', *FILTERS)),
    }


def parse_field(source: str) -> MergeField:
    inner = source.strip()
    name_match = _NAME.match(inner)
    if name_match is None:
        raise MergeError(
            _("“{{ %(source)s }}” is not a merge field. %(allowed)s")
            % {"source": inner, "allowed": _allowed_message()}
        )
    name = name_match.group()
    if name not in FIELDS:
        raise MergeError(
            _("Unknown merge field “%(name)s”. %(allowed)s")
            % {"name": name, "allowed": _allowed_message()}
        )
    rest = inner[name_match.end() :].lstrip()
    filters: list[tuple[str, str | None]] = []
    while rest:
        match = _FILTER.match(rest)
        if match is None:
            raise MergeError(
                _("“{{ %(source)s }}”: only filters written as |name or |default:\"text\" "
                  "may follow a field. %(allowed)s")
                % {"source": inner, "allowed": _allowed_message()}
            )  # fmt: skip
        filter_name, argument = match.group(1), match.group(2)
        if filter_name in FILTERS_WITH_ARGUMENT:
            if argument is None:
                raise MergeError(
                    _('“{{ %(source)s }}”: write the fallback in quotes, e.g. |default:"friend".')
                    % {"source": inner}
                )
            filters.append((filter_name, argument[1:-1]))
        elif filter_name in FILTERS:
            if argument is not None:
                raise MergeError(
                    _("“{{ %(source)s }}”: the filter “%(filter)s” takes no argument.")
                    % {"source": inner, "filter": filter_name}
                )
            filters.append((filter_name, None))
        else:
            raise MergeError(
                _("Unknown filter “%(filter)s”. %(allowed)s")
                % {"filter": filter_name, "allowed": _allowed_message()}
            )
        rest = rest[match.end() :]
    if filters and name in URL_FIELDS:
        raise MergeError(_("Link fields such as “%(name)s” take no filters.") % {"name": name})
    return MergeField(name=name, filters=tuple(filters), source=source)


def parse(text: str) -> list[Segment]:
    """Split text into literal strings and merge fields, or raise MergeError."""
    segments: list[Segment] = []
    position = 0
    for match in _FIELD.finditer(text):
        literal = text[position : match.start()]
        _refuse_stray_openers(literal)
        if literal:
            segments.append(literal)
        segments.append(parse_field(match.group(1)))
        position = match.end()
    tail = text[position:]
    _refuse_stray_openers(tail)
    if tail:
        segments.append(tail)
    return segments


def _refuse_stray_openers(literal: str) -> None:
    match = _OPEN.search(literal)
    if match is None:
        if "}}" in literal:
            raise MergeError(_("“}}” without a matching “{{”."))
        return
    if match.group() == "{%":
        raise MergeError(_("Template tags ({% … %}) are not allowed in mailings."))
    if match.group() == "{#":
        raise MergeError(_("Template comments ({# … #}) are not allowed in mailings."))
    raise MergeError(_("“{{” without a matching “}}”."))


def check(text: str, *, allow_urls: bool = True) -> None:
    """Raise MergeError if the text uses anything outside the sandbox."""
    for segment in parse(text):
        if isinstance(segment, MergeField) and segment.is_url and not allow_urls:
            raise MergeError(
                _("“%(name)s” is a link: use it in the body, not here.") % {"name": segment.name}
            )


def render(text: str, values: Mapping[str, str]) -> str:
    """Substitute merge fields in a short text (a subject line, a preview)."""
    return "".join(
        segment if isinstance(segment, str) else segment.evaluate(values) for segment in parse(text)
    )
