"""What a staff user may see in the workspace, decided through orgs.access."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from groundswell.mailings.models import Mailing
from groundswell.orgs.access import Permission, organisation_ids
from groundswell.orgs.models import Organisation
from groundswell.petitions.exports import who_chose
from groundswell.petitions.models import Petition, Signature, SignatureStatus


def petitions(user: Any) -> QuerySet[Petition]:
    """Petitions sponsored by an organisation whose figures the user may see."""
    orgs = organisation_ids(user, Permission.FIGURES)
    return Petition.objects.filter(sponsors__in=orgs).distinct()


def petition(user: Any, slug: str) -> Petition:
    found = petitions(user).filter(slug=slug).first()
    if found is None:
        raise Http404
    return found


def mailings(user: Any) -> QuerySet[Mailing]:
    return Mailing.objects.visible_to(user)


def people_organisations(user: Any, petition: Petition) -> list[Organisation]:
    """The petition's sponsors whose consenting signers the user may see by name."""
    allowed = organisation_ids(user, Permission.PEOPLE)
    return list(petition.sponsors.filter(pk__in=allowed).order_by("name"))


def consenting_signatures(petition: Petition, organisations: list[Organisation]) -> Any:
    """Valid signatures of people subscribed to a list of one of these organisations:
    the only signers whose names their staff see."""
    valid = Signature.objects.filter(petition=petition, status=SignatureStatus.VALID)
    return who_chose(valid, organisations).select_related("person").order_by("-created_at", "-pk")
