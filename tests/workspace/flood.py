"""A flood for the trust page's tests: many signatures at once, from a crowd (each
signer on a network and a domain of their own, a third on gmail.com) or from one
network, one domain and one postal code."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from groundswell.orgs.models import Organisation
from groundswell.petitions.models import Petition, Signature
from tests.cast import default_list, make_people, subscribe_all

FLOOD_NETWORK = "203.0.113.7"
FLOOD_DOMAIN = "fakes.example"
FLOOD_CODE = "ZZ1 1ZZ"


def sign_many(
    petition: Petition,
    count: int,
    *,
    prefix: str,
    network: str | None = None,
    domain: str | None = None,
    postal_code: str | None = None,
    minutes_ago: int = 10,
    spread_hours: int = 0,
    chose: Organisation | None = None,
) -> list[Signature]:
    """`count` signatures at once; without a network, domain or postal code each has
    its own (a crowd), and with `spread_hours` they are spread over that many hours."""
    people = make_people(count, prefix=prefix, country="GB")
    now = timezone.now()
    signatures = Signature.objects.bulk_create(
        [
            Signature(
                petition=petition,
                person=person,
                client_network=network or f"198.51.{i // 250}.{i % 250}",
                email_domain=domain or ("gmail.com" if i % 3 == 0 else f"mail{i}.example"),
            )
            for i, person in enumerate(people)
        ]
    )
    signatures = list(Signature.objects.filter(petition=petition, person__in=people).order_by("pk"))
    for i, (signature, person) in enumerate(zip(signatures, people, strict=True)):
        hours = (i % spread_hours) if spread_hours else 0
        Signature.objects.filter(pk=signature.pk).update(
            created_at=now - timedelta(hours=hours, minutes=minutes_ago)
        )
        code = postal_code or f"N{i % 40} {i % 9}AB"
        type(person).objects.filter(pk=person.pk).update(postal_code=code)
    if chose is not None:
        subscribe_all(people, default_list(chose))
    return signatures
