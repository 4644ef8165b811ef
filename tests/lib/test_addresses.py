"""normalise_email: one identity per address, whatever its case, spacing or script."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.core.exceptions import ValidationError
from hypothesis import example, given
from hypothesis import strategies as st

from groundswell.lib.addresses import normalise_email

# Domains a person might type in their own script, with their IDNA (punycode) form.
IDN_DOMAINS = {
    "bücher.example": "xn--bcher-kva.example",
    "пример.рф": "xn--e1afmkfd.xn--p1ai",
    "例え.テスト": "xn--r8jz45g.xn--zckzah",
    "münchen.de": "xn--mnchen-3ya.de",
    "ελλάδα.gr": "xn--hxakic4aa.gr",
}

# Atoms joined by single dots: "0..0" is not an address (a dot-atom has no empty atom).
local_parts = st.from_regex(r"\A[a-zA-Z0-9_%+-]{1,12}(\.[a-zA-Z0-9_%+-]{1,12}){0,2}\Z")
padding = st.text(alphabet=" \t\n", max_size=3)


def shouted(text: str) -> str:
    return "".join(c.upper() if i % 2 else c for i, c in enumerate(text))


class TestNormaliseEmail:
    @given(st.emails())
    def test_it_is_idempotent(self, email):
        once = normalise_email(email)
        assert normalise_email(once) == once

    @given(st.emails(), padding, padding)
    def test_it_ignores_case_and_surrounding_space(self, email, before, after):
        assert normalise_email(f"{before}{email.upper()}{after}") == normalise_email(email)

    @given(local_parts, st.sampled_from(sorted(IDN_DOMAINS)), padding)
    @example("Bob", "bücher.example", " ")
    @example("0.0", "münchen.de", "")
    def test_it_encodes_international_domains(self, local, domain, space):
        result = normalise_email(f"{space}{local}@{domain}{space}")
        assert result == f"{local.lower()}@{IDN_DOMAINS[domain]}"
        assert result.isascii()
        assert normalise_email(f"{local}@{shouted(domain)}") == result
        assert normalise_email(result) == result  # idempotent on the encoded form too

    @given(st.text(max_size=300))
    def test_it_accepts_or_refuses_with_a_validation_error_only(self, text):
        try:
            result = normalise_email(text)
        except ValidationError:
            return
        assert result == result.strip().lower()
        assert "@" in result
        assert result.isascii()

    @given(st.emails())
    def test_what_it_returns_fits_the_database_column(self, email):
        try:
            result = normalise_email(email)
        except ValidationError:
            return
        assert len(result) <= 254

    def test_it_refuses_an_address_too_long_to_store(self):
        too_long = "a" * 64 + "@" + ".".join(["b" * 63] * 3) + ".com"
        with pytest.raises(ValidationError):
            normalise_email(too_long)

    def test_it_drops_the_trailing_dot_of_a_fully_qualified_domain(self):
        assert normalise_email("bob@example.org.") == "bob@example.org"

    @pytest.mark.parametrize(
        "typed", ["", "bob", "@example.org", "bob@", "bob@exa mple.org", "bob@-.org"]
    )
    def test_it_refuses_what_is_not_an_address(self, typed):
        with pytest.raises(ValidationError):
            normalise_email(typed)


def test_a_web_worker_compiles_the_address_patterns_as_it_starts() -> None:
    # Django compiles them at first use without a lock: a worker's first signers, all
    # at once, would each compile them. In a fresh interpreter, as a worker starts.
    script = (
        "from django.core.validators import EmailValidator\n"
        "from django.utils.functional import empty\n"
        "import groundswell.wsgi\n"
        "print(EmailValidator.domain_regex._wrapped is not empty,"
        " EmailValidator.user_regex._wrapped is not empty)\n"
    )
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="groundswell.settings")
    env.setdefault("SECRET_KEY", "test-" + "x" * 60)
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )

    assert done.stdout.split() == ["True", "True"]


class TestIdna2008:
    def test_it_keeps_sharp_s_as_its_own_letter_as_idna_2008_does(self) -> None:
        # IDNA 2003 (Python's "idna" codec) turned it into "ss": another domain.
        assert normalise_email("anna@straße.de") == "anna@xn--strae-oqa.de"

    def test_capitals_map_to_the_same_domain(self) -> None:
        assert normalise_email("a@BÜCHER.example") == normalise_email("a@bücher.example")

    @pytest.mark.parametrize("domain", ["٠١٢.com", "bücher..example", "ex ample.çom"])
    def test_a_domain_idna_2008_refuses_is_refused_with_a_reason(self, domain: str) -> None:
        with pytest.raises(ValidationError, match="The part after @ is not a valid domain"):
            normalise_email(f"someone@{domain}")

    @given(st.text(min_size=1, max_size=20))
    def test_an_accepted_address_normalises_to_itself(self, domain: str) -> None:
        try:
            once = normalise_email(f"someone@{domain}")
        except ValidationError:
            return
        assert normalise_email(once) == once
        assert once.isascii()
