"""Two-factor sign-in for staff: an authenticator app (TOTP) and ten recovery codes.

A code is checked against the user's confirmed devices only: six digits against the
app, anything else against the recovery codes, so a mistyped recovery code does not
slow down the app (django-otp pauses a device for 1, 2, 4… seconds after each wrong
code; the sign-in page's own throttle counts wrong codes as failed sign-ins). Each
code works once: the app's because a device accepts only codes newer than the last it
took, a recovery code because it is deleted as it is used.
"""

from __future__ import annotations

import time
from binascii import unhexlify
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django_otp.models import Device
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from groundswell.members.actions.audit import record_audit
from groundswell.members.models import AuditAction

RECOVERY_CODES = 10
APP_NAME = "Authenticator app"
RECOVERY_NAME = "Recovery codes"
CODE_LIMIT = 32


@dataclass(frozen=True)
class TwoFactorTurnedOn:
    device: TOTPDevice
    recovery_codes: list[str]


def new_secret() -> str:
    """A key for a new authenticator app, hex as django-otp stores it (160 bits)."""
    return str(random_hex(20))


def clean_code(code: str) -> str:
    """What the person typed, without the spaces and dashes apps and lists put in."""
    return "".join(code.split()).replace("-", "").lower()[:CODE_LIMIT]


def is_app_code(code: str) -> bool:
    # isascii: str.isdigit() also takes "²", which int() refuses.
    return len(code) == 6 and code.isascii() and code.isdigit()


def _actor(user: Any) -> str:
    return f"staff:{user.get_username()}"


def do_use_code(user: Any, code: str) -> Device | None:
    """The device that accepts this code (a recovery code is used up), or None. A wrong
    code's pause on the device is kept even when the caller's transaction is not."""
    token = clean_code(code)
    if not token:
        return None
    model: type[TOTPDevice] | type[StaticDevice] = (
        TOTPDevice if is_app_code(token) else StaticDevice
    )
    with transaction.atomic():
        devices = model.objects.select_for_update().filter(user=user, confirmed=True)
        for device in devices.order_by("pk"):
            if device.verify_token(token):
                return device
    return None


def _make_recovery_codes(user: Any) -> list[str]:
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name=RECOVERY_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes


def do_turn_on_two_factor(
    user: Any, secret: str, code: str, *, ip_address: str | None = None
) -> TwoFactorTurnedOn | None:
    """Confirm the app holding `secret` with a code it shows now (None when the code is
    wrong: nothing is stored), replace any earlier app, and make recovery codes."""
    token = clean_code(code)
    if not is_app_code(token):
        return None
    totp = TOTP(unhexlify(secret.encode()))
    totp.time = time.time()
    if not totp.verify(int(token), tolerance=1):
        return None
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        device = TOTPDevice.objects.create(
            user=user,
            name=APP_NAME,
            key=secret,
            confirmed=True,
            # This code is spent: the next sign-in needs a newer one.
            last_t=totp.t(),
            drift=totp.drift,
        )
        codes = _make_recovery_codes(user)
        _record_change(user, "turned-on", ip_address)
    return TwoFactorTurnedOn(device=device, recovery_codes=codes)


def _record_change(user: Any, change: str, ip_address: str | None) -> None:
    record_audit(
        AuditAction.TWO_FACTOR_CHANGED,
        _actor(user),
        ip_address=ip_address,
        details={"change": change},
    )


def do_turn_off_two_factor(user: Any, code: str, *, ip_address: str | None = None) -> bool:
    """Remove the app and the recovery codes, given a code from either; False (nothing
    changed) when the code is wrong."""
    with transaction.atomic():
        if do_use_code(user, code) is None:
            return False
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        _record_change(user, "turned-off", ip_address)
    return True


def do_renew_recovery_codes(
    user: Any, code: str, *, ip_address: str | None = None
) -> list[str] | None:
    """Ten new recovery codes in place of the old, given a code from the app or a
    recovery code; None (nothing changed) when the code is wrong."""
    with transaction.atomic():
        if do_use_code(user, code) is None:
            return None
        codes = _make_recovery_codes(user)
        _record_change(user, "recovery-codes-renewed", ip_address)
    return codes
