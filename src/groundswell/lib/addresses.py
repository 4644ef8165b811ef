"""Email address normalisation: one person per address, whatever its case or spacing."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _


def normalise_email(value: str) -> str:
    """Trim, lower-case, and encode an international domain as IDNA (punycode).

    Raises ValidationError with a message fit to show next to the field.
    """
    address = value.strip()
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        raise ValidationError(_("Enter an email address like name@example.org."), code="invalid")
    try:
        ascii_domain = domain.strip().rstrip(".").encode("idna").decode("ascii")
    except UnicodeError:
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
