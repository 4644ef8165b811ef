from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from groundswell.lib.markdown import render_markdown


class TestBareWebAddresses:
    def test_it_makes_a_plain_address_in_a_footnote_a_link(self):
        html = render_markdown("They said so.[^1]\n\n[^1]: See https://example.org/report.pdf.")
        assert '<a href="https://example.org/report.pdf" rel="noopener noreferrer">' in html
        assert "report.pdf</a>." in html

    def test_it_leaves_sentence_punctuation_and_an_unmatched_bracket_outside(self):
        html = render_markdown("(read https://example.org/a, then https://example.org/b)")
        assert 'href="https://example.org/a"' in html
        assert 'href="https://example.org/b"' in html

    def test_it_keeps_a_bracket_that_belongs_to_the_address(self):
        html = render_markdown("https://en.wikipedia.org/wiki/Sit-in_(protest)")
        assert 'href="https://en.wikipedia.org/wiki/Sit-in_(protest)"' in html

    def test_it_does_not_link_inside_a_link_or_code(self):
        html = render_markdown("[https://a.example](https://b.example) `https://c.example`")
        assert html.count("<a ") == 1
        assert "<code>https://c.example</code>" in html

    def test_it_does_not_make_other_schemes_links(self):
        assert "<a " not in render_markdown("javascript://example.org/%0aalert(1)")

    @given(st.text(max_size=200))
    def test_it_never_emits_a_script_or_an_unsafe_link(self, text):
        html = render_markdown(text).lower()
        assert "<script" not in html
        assert 'href="javascript:' not in html
