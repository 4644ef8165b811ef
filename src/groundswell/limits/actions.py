"""Counting a request against its rate limits (models.py says what is counted)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from groundswell.lib import signing
from groundswell.lib.limits import Rule
from groundswell.limits.models import LimitedRequest

KEY = signing.Purpose(salt=b"groundswell.rate-limit-key", length=43)


@dataclass(frozen=True)
class OverLimit:
    key: str  # which of the keys counted ("network", "address")
    retry_at: datetime

    def retry_after_seconds(self, now: datetime) -> int:
        return max(1, int((self.retry_at - now).total_seconds()) + 1)


def do_count_request(
    kind: str, keys: Mapping[str, str], rules: Mapping[str, Rule], *, now: datetime | None = None
) -> OverLimit | None:
    """Count one request of `kind` for each of `keys` (e.g. {"network": "192.0.2.7",
    "address": "bob@example.org"}) under the rule of the same name, and return None;
    or, when one of them is already at its limit, count nothing and say until when.
    An empty value is not counted."""
    now = now or timezone.now()
    counted = {
        name: signing.sign(KEY, f"{name}:{value}")
        for name, value in keys.items()
        if value and rules.get(name)
    }
    longest = max((w.period for rule in rules.values() for w in rule), default=None)
    with transaction.atomic():
        latest: OverLimit | None = None
        for name, key in counted.items():
            for window in rules[name]:
                times = list(
                    LimitedRequest.objects.filter(
                        kind=kind, key=key, created_at__gt=now - window.period
                    )
                    .order_by("-created_at")
                    .values_list("created_at", flat=True)[: window.count]
                )
                if len(times) >= window.count:
                    retry_at = times[-1] + window.period
                    if latest is None or retry_at > latest.retry_at:
                        latest = OverLimit(name, retry_at)
        if latest is not None:
            return latest
        LimitedRequest.objects.bulk_create(
            LimitedRequest(kind=kind, key=key, created_at=now) for key in counted.values()
        )
        if longest is not None:
            # Nothing older than the longest window is needed again.
            LimitedRequest.objects.filter(kind=kind, created_at__lt=now - longest).delete()
    return None


def do_prune_limited_requests(*, older_than: datetime) -> int:
    """Delete the counted requests made before `older_than` (the hourly retention task:
    the longest window of EMAIL_REQUEST_LIMITS), of kinds nobody asked for since; how
    many were deleted."""
    deleted, _ = LimitedRequest.objects.filter(created_at__lt=older_than).delete()
    return deleted
