"""Finding what a command's arguments name, with an error that lists what there is."""

from __future__ import annotations

from django.core.management.base import CommandError

from groundswell.orgs.models import Organisation
from groundswell.petitions.models import Petition


def organisation(slug: str) -> Organisation:
    found = Organisation.objects.filter(slug=slug).first()
    if found is None:
        known = ", ".join(Organisation.objects.values_list("slug", flat=True)) or "none"
        raise CommandError(f"No organisation has the slug {slug!r} (known: {known}).")
    return found


def petition(slug: str) -> Petition:
    found = Petition.objects.filter(slug=slug).first()
    if found is None:
        raise CommandError(f"No petition has the slug {slug!r}.")
    return found
