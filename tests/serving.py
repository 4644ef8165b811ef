"""The environment of a `groundswell serve` (or worker) that a test starts as its own
process."""

from __future__ import annotations

import os


def server_env(**extra: str) -> dict[str, str]:
    """This process's environment, for a server whose test signs at machine speed from
    one address: the signing defences (rate limits, minimum time), which
    tests/petitions/test_sign_defences.py tests, are off."""
    return dict(os.environ, SIGN_LIMITS="off", SIGN_MIN_SECONDS="0", **extra)
