from __future__ import annotations

import csv
import io

from hypothesis import given
from hypothesis import strategies as st

from groundswell.lib.csvsafe import csv_text, is_formula, safe_cell


class TestCsvSafety:
    @given(st.text())
    def test_it_never_lets_a_cell_start_a_formula(self, text):
        assert not is_formula(safe_cell(text))
        assert not safe_cell(text).lstrip(" ").startswith(("=", "+", "-", "@", "\t", "\r"))

    @given(
        st.text().filter(lambda t: not t.lstrip(" ").startswith(("=", "+", "-", "@", "\t", "\r")))
    )
    def test_it_leaves_ordinary_text_alone(self, text):
        assert safe_cell(text) == text

    @given(st.lists(st.lists(st.text(), min_size=1, max_size=4), min_size=1, max_size=5))
    def test_it_writes_rows_that_read_back_with_only_the_guard_added(self, rows):
        back = list(csv.reader(io.StringIO(csv_text(rows), newline="")))
        assert back == [[safe_cell(cell) for cell in row] for row in rows]

    def test_it_defuses_a_formula(self):
        assert safe_cell('=HYPERLINK("http://evil")') == '\'=HYPERLINK("http://evil")'

    def test_it_defuses_a_formula_behind_leading_spaces(self):
        assert safe_cell("   =1+1") == "'   =1+1"
        assert safe_cell(" \t@SUM(A1)") == "' \t@SUM(A1)"
