"""Links that confirm a pending signature: `/sign/confirm/<token>/`.

A token is `<signature id>.<signed at, Unix seconds>.<tag>`, the tag 22 characters
(132 bits) of a lib.signing tag over the other two, so keys rotate as every other
tag's do. It carries no address. The time in it lets the page tell a link that
expired (SIGN_CONFIRM_DAYS after signing) from one that was never ours.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.utils import timezone

from groundswell.lib import signing
from groundswell.petitions.models import Signature

TAG_LENGTH = 22
CONFIRMATION = signing.Purpose(salt=b"groundswell.signature-confirmation.v1", length=TAG_LENGTH)
_TOKEN_RE = re.compile(r"^([1-9][0-9]{0,17})\.([1-9][0-9]{0,11})\.([A-Za-z0-9_-]{22})$")


@dataclass(frozen=True)
class ConfirmationToken:
    signature_id: int
    signed_at: datetime

    def has_expired(self, now: datetime | None = None) -> bool:
        return (now or timezone.now()) >= self.signed_at + confirm_period()


def confirm_period() -> timedelta:
    """How long a pending signature waits for its signer (SIGN_CONFIRM_DAYS)."""
    return timedelta(days=settings.SIGN_CONFIRM_DAYS)


def make_confirmation_token(signature: Signature) -> str:
    message = f"{signature.pk}.{int(signature.created_at.timestamp())}"
    return f"{message}.{signing.sign(CONFIRMATION, message)}"


def confirmation_url(signature: Signature) -> str:
    return f"{settings.BASE_URL}/sign/confirm/{make_confirmation_token(signature)}/"


def read_confirmation_token(token: str | None) -> ConfirmationToken | None:
    """What a token carries, or None for anything malformed or forged."""
    match = signing.read_signed(CONFIRMATION, _TOKEN_RE, token, lambda m: f"{m[1]}.{m[2]}")
    if match is None:
        return None
    return ConfirmationToken(
        signature_id=int(match[1]), signed_at=datetime.fromtimestamp(int(match[2]), tz=UTC)
    )
