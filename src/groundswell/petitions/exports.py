"""A petition's signatures as rows for a file: read in chunks from the database, so an
export of any size keeps memory flat. With an organisation, only the signers who chose
it (are on one of its lists) are in the file: a coalition partner's export never holds
another partner's people."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import Exists, OuterRef

from groundswell.lib.downloads import export_rows
from groundswell.members.models import Subscription, SubscriptionStatus
from groundswell.orgs.models import Organisation
from groundswell.petitions.models import Petition, Signature, SignatureStatus

# The file's columns, and the database fields they come from.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("signed_at", "created_at"),
    ("first_name", "person__first_name"),
    ("last_name", "person__last_name"),
    ("email", "person__email"),
    ("postal_code", "person__postal_code"),
    ("country", "person__country"),
    ("comment", "comment"),
    ("source", "source"),
    ("utm_source", "utm_source"),
    ("utm_medium", "utm_medium"),
    ("utm_campaign", "utm_campaign"),
    ("utm_term", "utm_term"),
    ("utm_content", "utm_content"),
    ("referring_page", "http_referer"),
    ("mailing", "mailing_id"),
    ("link", "link_number"),
)


def who_chose(signatures: Any, organisations: Iterable[Organisation]) -> Any:
    """Of these signatures, those whose signer is subscribed now to a list of one of
    these organisations: the only signers an organisation's staff may see by name."""
    chose = Subscription.objects.filter(
        person=OuterRef("person"),
        status=SubscriptionStatus.SUBSCRIBED,
        mailing_list__organisation__in=list(organisations),
    )
    return signatures.filter(Exists(chose))


def exported_signatures(petition: Petition, organisation: Organisation | None) -> Any:
    """The valid signatures of people still on file, oldest first; with an organisation,
    only of those who chose it."""
    signatures = Signature.objects.filter(
        petition=petition, status=SignatureStatus.VALID, person__isnull=False
    )
    if organisation is not None:
        signatures = who_chose(signatures, [organisation])
    return signatures.order_by("pk")


def signature_rows(petition: Petition, organisation: Organisation | None) -> Iterator[list[Any]]:
    """The header, then one row per signature."""
    return export_rows(exported_signatures(petition, organisation), COLUMNS)


def signature_records(
    petition: Petition, organisation: Organisation | None
) -> Iterator[dict[str, Any]]:
    """One dict per signature (for JSON lines), keyed by the CSV's column names."""
    rows = signature_rows(petition, organisation)
    header = next(rows)
    for row in rows:
        yield dict(zip(header, row, strict=True))
