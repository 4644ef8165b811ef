"""Hostile text for the fuzz tests of tests/hostile/: what an attacker types into a form,
a query string or a path, and the checks every answer to it must pass.

Each sample is chosen to break something particular: an HTML element or attribute, a
SQL statement, a header line, a column width, a codec, a domain name. The strategies
mix them with ordinary text, so that a value is sometimes plausible and sometimes not.
"""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from typing import Any

from django.http import HttpResponse
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# Few examples, the same ones every run: the suite is a net for regressions, and CI's
# time limit is shared with everything else (tests/hostile/__init__.py).
fuzz = settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# For a test that fills in a form and then reads many pages.
fuzz_heavy = settings(fuzz, max_examples=5)

# Markup that must never come back as markup: each is searched for, as written, in every
# HTML page answered (once escaped, none of them can appear).
MARKUP = (
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg/onload=alert(1)>",
    '" autofocus onfocus="alert(1)',
    "</textarea><script>alert(2)</script>",
    "</title><iframe src=javascript:alert(3)>",
    "<a href='javascript:alert(4)'>x</a>",
)
MARKERS = (
    "<script>alert",
    "<img src=x",
    "<svg/onload",
    'onfocus="alert',
    "<iframe src=javascript",
    "<a href='javascript",
)
TEMPLATE = ("{{ 7|add:7 }}", "{% debug %}", "${7*7}", "{{ request.user.password }}")
SQL = (
    "' OR '1'='1",
    "'; DROP TABLE members_person; --",
    "1; SELECT pg_sleep(10)--",
    '" OR ""="',
    "%' --",
    "\\'",
    "1 UNION SELECT password FROM auth_user--",
    "%_%",
)
UNICODE = (
    "\u202egnp.exe",  # right-to-left override
    "a\u2066b\u2069c\u202d",  # isolates and an override left open
    "Zo\u200be\u200d\u200c\ufeff",  # zero-width characters and a BOM
    "e" + "\u0301" * 40,  # a tower of combining accents
    "Z\u0351\u0352\u0353\u0354a\u0355\u0356lgo",
    # Astral-plane emoji, some joined into one.
    "\U0001f600\U0001f3f3\ufe0f\u200d\U0001f308\U0001f469\u200d\U0001f469\u200d\U0001f467",
    # Mathematical letters that NFKC makes ASCII.
    "\U0001d56c\U0001d591\U0001d58e\U0001d588\U0001d58a",
    "\u0130\u0131\u00df\ufb01\u03a9",  # characters whose case mapping changes their length
    "\uffff\ufffe\U0010ffff",  # noncharacters
    "line\u2028separator\u2029",
    "\u0661\u0662\u0663",  # Arabic-Indic digits
    "\u00b2\u00b3",
)
CONTROL = ("\x00", "a\x00b", "\x07\x08\x1b[31mred", "\x7f\x85", "\t\v\f")
NEWLINES = (
    "Bob\r\nBcc: victim@example.org",
    "Bob\nSubject: injected",
    "Bob\rX-Injected: 1",
    "\r\n\r\n<b>body</b>",
)
NUMBERS = (
    "99999999999999999999",
    "9223372036854775808",
    "2147483648",
    "-1",
    "-99999999999999999999",
    "0",
    "1e9",
    "0x10",
    "\u0661\u0662",
    "\u00b2",
    "NaN",
    "inf",
    " 7",
    "7.5",
)
EMAILS = (
    "bob@ex\u0430mple.org",  # a Cyrillic a
    "bob@xn--80ak6aa92e.com",  # "apple" in Cyrillic letters, in punycode
    "bob@b\u00fccher.example",
    "BOB@B\u00dcCHER.EXAMPLE",
    "bob@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.org",  # full-width letters, which UTS 46 maps
    "bob@stra\u00dfe.de",
    "bob@\u2603.net",
    "bob@\u4f8b\u3048.\u30c6\u30b9\u30c8",
    "bob@ex\u200bample.org",
    "bob@xn--zz.org",  # not valid punycode
    "bob@-bad-.org",
    "bob@a..b",
    "bob@example.org.",
    "bob@[127.0.0.1]",
    "bob@localhost",
    "bob@example.org\r\nBcc: victim@example.org",
    "bob@example.org\nBcc: victim@example.org",
    '"bob\r\nBcc: x"@example.org',
    "bob@example.org, eve@example.org",
    "Eve <eve@example.org>",
    "bob@example.org>\r\nX-Injected: 1",
    "=cmd|' /C calc'!A0@example.org",
    "a" * 250 + "@example.org",
    "b" * 64 + "@" + "c" * 63 + "." + "d" * 63 + ".org",
    "<script>@example.org",
    "bob+tag@example.org",
    "\x00bob@example.org",
)
SAMPLES = MARKUP + TEMPLATE + SQL + UNICODE + CONTROL + NEWLINES + NUMBERS
# Percent-encoded bytes for query strings and bodies: not UTF-8 at all, a lone
# surrogate as CESU-8 would write it, an overlong slash, a NUL.
RAW_BYTES = ("%FF%FE", "%ED%A0%80", "%C0%AF", "%00", "%E2%80%AE", "%0D%0ABcc:%20x")


def hostile_text(max_size: int = 300) -> st.SearchStrategy[str]:
    """One hostile value: a sample, several run together, any Unicode text, or a long
    run of one character."""
    sample = st.sampled_from(SAMPLES)
    return st.one_of(
        sample,
        st.lists(sample, min_size=2, max_size=4).map("".join),
        st.builds(lambda a, b: a + " " + b, st.sampled_from(["Ann", "Lee", "Zoë"]), sample),
        st.text(max_size=40),
        st.builds(
            lambda c, n: c * n,
            st.sampled_from(["A", "é", "😀", "'", "<", "\u0301"]),
            st.integers(max_size // 2, max_size * 4),
        ),
    )


def hostile_email() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(EMAILS),
        st.builds(lambda t: f"{t}@example.org", hostile_text(60)),
        st.builds(lambda t: f"bob@{t}", hostile_text(60)),
    )


def hostile_number() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(NUMBERS), st.integers().map(str), hostile_text(20), st.just("")
    )


def hostile_query_value() -> st.SearchStrategy[str]:
    """A query string value, already percent-encoded."""
    from urllib.parse import quote

    return st.one_of(
        st.sampled_from(RAW_BYTES),
        hostile_text(200).map(lambda v: quote(v.encode("utf-8", "surrogatepass"))),
        hostile_number().map(lambda v: quote(v.encode("utf-8", "surrogatepass"))),
    )


def hostile_segment() -> st.SearchStrategy[str]:
    """A path segment, already percent-encoded (a slash in it stays encoded)."""
    from urllib.parse import quote

    return st.one_of(
        st.sampled_from((*RAW_BYTES, "..", "%2e%2e", "%2F", "~", "a" * 5000)),
        hostile_text(100).map(lambda v: quote(v.encode("utf-8", "surrogatepass"), safe="")),
        hostile_number(),
    )


# --- What every answer must be ------------------------------------------------------

FINE = {200, 204, 301, 302, 303, 304, 400, 403, 404, 405, 410, 413, 429}


def assert_answered_safely(response: HttpResponse, what: str = "") -> str:
    """Neither an error of ours (5xx) nor an answer we did not mean, and no markup
    from a hostile value in an HTML page. Returns the page's text."""
    label = what or getattr(response, "request", {}).get("PATH_INFO", "")
    assert response.status_code in FINE, (label, response.status_code)
    if getattr(response, "streaming", False):
        return ""
    text = response.content.decode("utf-8", errors="replace")
    if "html" in response.get("Content-Type", ""):
        assert_no_markup(text, label)
    return text


def assert_no_markup(text: str, what: str = "") -> None:
    found = [marker for marker in MARKERS if marker in text]
    assert not found, (what, found, _around(text, found[0]))


def _around(text: str, marker: str) -> str:
    at = text.find(marker)
    return text[max(0, at - 120) : at + 120]


HEADER_LINE = re.compile(rb"^[A-Za-z0-9-]+:")


def assert_one_line_headers(message: Any, *, allowed: set[str] | None = None) -> None:
    """The message's headers are those we wrote and no more: a value with a line break
    in it could have started a header (or the body) of its own."""
    raw: bytes = message.message().as_bytes() if hasattr(message, "message") else message
    head = raw.split(b"\r\n\r\n", 1)[0] if b"\r\n\r\n" in raw else raw.split(b"\n\n", 1)[0]
    names = [
        line.split(b":", 1)[0].decode().lower()
        for line in re.split(rb"\r?\n", head)
        if HEADER_LINE.match(line)
    ]
    injected = {"bcc", "x-injected"} & set(names)
    assert not injected, (injected, head)
    assert names.count("subject") <= 1 and names.count("to") <= 1, head
    parsed = message_from_bytes(raw, policy=policy.default)
    for name in ("To", "Cc", "Bcc", "Reply-To"):
        if allowed is not None and name.lower() in allowed:
            continue
        for value in parsed.get_all(name, []):
            assert "\n" not in str(value) and "\r" not in str(value), (name, value)
