"""Requests counted by a rate limit, for the forms that send an email to an address
someone typed (privacy requests, profile links, email changes; docs/security.md).

Signing keeps no such rows: its limits count the signatures themselves
(petitions/defences.py). These forms are used a few times a day, so one row per
request is cheap, and being in the database the count holds across processes and
machines. A row holds no address: only a keyed hash of the network or email
address it counts, and it is deleted once older than the longest window.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class LimitedRequest(models.Model):
    # What was asked for ("email-request"), and a keyed hash of one thing counted
    # (its client network, or the address written to).
    kind = models.CharField(max_length=40)
    key = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["kind", "key", "created_at"], name="limited_request_key_idx"),
            models.Index(fields=["created_at"], name="limited_request_age_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.key[:8]} {self.created_at:%Y-%m-%d %H:%M}"
