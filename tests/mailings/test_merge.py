"""Merge fields: our fields and filters only, everything else refused with a reason."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from groundswell.mailings import merge
from groundswell.mailings.merge import MergeError, MergeField


class TestParse:
    def test_it_splits_text_and_fields(self) -> None:
        segments = merge.parse('Dear {{ first_name|default:"friend" }}, hello')
        assert segments[0] == "Dear "
        assert segments[1] == MergeField(
            "first_name", (("default", "friend"),), ' first_name|default:"friend" '
        )
        assert segments[2] == ", hello"

    def test_it_accepts_single_quotes_and_chained_filters(self) -> None:
        (field,) = merge.parse("{{first_name|default:'pal'|upper}}")
        assert field.evaluate({"first_name": ""}) == "PAL"
        assert field.evaluate({"first_name": "bob"}) == "BOB"

    @pytest.mark.parametrize(
        "text, message",
        [
            ("{{ password }}", "Unknown merge field “password”"),
            ("{{ first_name.__class__ }}", "only filters"),
            ("{{ first_name|safe }}", "Unknown filter “safe”"),
            ("{{ first_name|default }}", "write the fallback in quotes"),
            ("{{ first_name|upper:'x' }}", "takes no argument"),
            ("{% load static %}", "Template tags"),
            ("{# note #}", "Template comments"),
            ("Hello {{ first_name", "without a matching"),
            ("Hello first_name }}", "without a matching"),
            ("{{ petition_url|upper }}", "take no filters"),
            ("{{ 1 }}", "is not a merge field"),
        ],
    )
    def test_it_refuses_anything_outside_the_sandbox(self, text: str, message: str) -> None:
        with pytest.raises(MergeError, match=message):
            merge.parse(text)

    def test_it_lists_what_is_allowed_when_refusing(self) -> None:
        with pytest.raises(MergeError) as caught:
            merge.parse("{{ user.password }}")
        assert "first_name" in str(caught.value)
        assert 'default:"…"' in str(caught.value)

    def test_it_refuses_link_fields_where_links_cannot_go(self) -> None:
        merge.check("Sign: {{ petition_url }}")
        with pytest.raises(MergeError, match="is a link"):
            merge.check("Sign: {{ petition_url }}", allow_urls=False)


class TestEvaluate:
    def test_it_uses_the_fallback_only_for_an_empty_value(self) -> None:
        assert merge.render('Dear {{ first_name|default:"friend" }},', {}) == "Dear friend,"
        assert (
            merge.render('Dear {{ first_name|default:"friend" }},', {"first_name": "Ana"})
            == "Dear Ana,"
        )

    def test_it_turns_line_breaks_in_values_into_spaces(self) -> None:
        assert merge.render("{{ last_name }}", {"last_name": "Smith\r\nBcc: x"}) == "Smith  Bcc: x"


@given(st.text(max_size=200))
def test_it_never_fails_other_than_with_a_merge_error(text: str) -> None:
    try:
        segments = merge.parse(text)
    except MergeError:
        return
    # What parses renders back to the literal text when it has no fields.
    if all(isinstance(s, str) for s in segments):
        assert "".join(segments) == text  # type: ignore[arg-type]


@given(st.text(alphabet=st.characters(blacklist_characters="{}%#"), max_size=80))
def test_it_leaves_text_without_braces_alone(text: str) -> None:
    assert merge.render(text, {}) == text
