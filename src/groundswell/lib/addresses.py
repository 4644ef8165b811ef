"""Email address normalisation: one person per address, whatever its case or spacing."""

from __future__ import annotations

import idna
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _


def normalise_email(value: str) -> str:
    """Trim, lower-case, and encode an international domain as IDNA 2008 (punycode,
    with UTS 46 mapping: "BÜCHER.example" and "bücher.example" are one domain, and
    "straße.de" stays itself rather than becoming "strasse.de" as IDNA 2003 had it).

    Raises ValidationError with a message fit to show next to the field.
    """
    address = value.strip()
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        raise ValidationError(_("Enter an email address like name@example.org."), code="invalid")
    domain = domain.strip().rstrip(".")
    if domain.isascii():
        ascii_domain = domain  # the common case, checked by validate_email below
    else:
        try:
            ascii_domain = idna.encode(domain, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError):
            raise ValidationError(
                _("The part after @ is not a valid domain."), code="invalid"
            ) from None
    normalised = f"{local}@{ascii_domain}".lower()
    # RFC 5321's limit, and our column's: longer would fail at the database instead.
    if len(normalised) > 254:
        raise ValidationError(_("This email address is too long."), code="invalid")
    validate_email(normalised)
    return normalised


def warm_up() -> None:
    """Compile now what the first address checked would otherwise compile: for a web
    worker at start. Django builds its email validator's patterns at their first use,
    without a lock, so the first signers after a start each built them at once
    (docs/performance.md)."""
    validate_email("warm-up@example.org")


def mail_address(value: str) -> str:
    """The address to send to: as it was typed, its domain in the ASCII form IDNA 2008
    gives (as normalise_email does). Handed a domain beyond ASCII, Django encodes it with
    IDNA 2003, which sends mail for "straße.de" to "strasse.de", someone else's domain;
    and our bulk SMTP path cannot send it at all.

    Raises ValidationError for a domain IDNA 2008 refuses (normalise_email refused it
    before it was stored).
    """
    address = value.strip()
    if address.isascii():
        return address
    local, _at, domain = address.rpartition("@")
    try:
        ascii_domain = idna.encode(domain.strip().rstrip("."), uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        raise ValidationError(
            _("The part after @ is not a valid domain."), code="invalid"
        ) from None
    return f"{local}@{ascii_domain}"
