"""What a person's name may hold.

A name typed into a public form is printed in emails sent from the organisation's
domain to whatever address was typed with it ("Dear …," in the thank-you email), and
in the subjects of mailings. So a name holds no link or address, which would have the
organisation send attacker-chosen text, and no line break or control character, which
could start a header of its own or turn the text around it (right-to-left override).
"""

from __future__ import annotations

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Room for a real name; too little for a sentence of spam.
NAME_MAX_LENGTH = 60

# "://", "www.", "@", or a dot joining two words as in a domain ("win.example"): a real
# name with such a dot ("J.Smith") is asked for again with a space.
_LINK = re.compile(r"://|www\.|@|[^\W_]\.[^\W\d_]{2,}", re.IGNORECASE)
# Explicit bidirectional embeddings, overrides and isolates.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def name_problem(value: str) -> str | None:
    """Why this name cannot be taken, in words fit for the form; None when it can."""
    if _LINK.search(value):
        return str(_("Enter your name without a web or email address."))
    if any(c in _BIDI_CONTROLS or unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in value):
        return str(_("Enter your name without line breaks or control characters."))
    return None


def validate_name(value: str) -> None:
    problem = name_problem(value)
    if problem is not None:
        raise ValidationError(problem, code="invalid")
