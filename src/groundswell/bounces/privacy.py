"""A person's bounces and complaints on erasure (registered with members/privacy.py
in apps.py)."""

from __future__ import annotations

from django.db.models import Q

from groundswell.bounces.models import BounceEvent
from groundswell.members.models import Person


def forget_person(person: Person) -> dict[str, int]:
    """Events stay for the mailings' bounce and complaint rates; the server's words go,
    as they often quote the address."""
    BounceEvent.objects.filter(Q(person=person) | Q(recipient__person=person)).update(
        person=None, detail=""
    )
    return {}
