"""The hidden fields put into the cached petition page on every view (pages.hidden_inputs)
are exactly what Django's format_html_join makes of them."""

from __future__ import annotations

from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from hypothesis import given
from hypothesis import strategies as st

from groundswell.petitions.pages import hidden_inputs


def as_django_writes_them(values: dict[str, str]) -> str:
    return format_html_join(
        "",
        '<input type="hidden" name="{}" value="{}">',
        ((name, value) for name, value in values.items() if value),
    )


class TestHiddenInputs:
    @given(st.dictionaries(st.text(max_size=12), st.text(max_size=24), max_size=5))
    def test_it_escapes_as_django_does(self, values: dict[str, str]) -> None:
        assert hidden_inputs(values) == as_django_writes_them(values)

    def test_it_leaves_safe_text_as_it_is_and_skips_empty_values(self) -> None:
        values = {"ref": mark_safe("a&amp;b"), "source": "", "akid": '5.7."<x>'}

        assert hidden_inputs(values) == as_django_writes_them(values)
        assert 'name="source"' not in hidden_inputs(values)
