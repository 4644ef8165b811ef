"""What a bulk invalidation on the trust page would take: the criteria staff give (a
client network, an email domain, a time window, pasted signature ids; all given must
match), the valid signatures they match, and a preview (how many, and a sample)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from groundswell.lib.forms import AccessibleErrorsMixin
from groundswell.lib.numbers import MAX_STORED_BIGINT, bounded_int
from groundswell.petitions.counter import display_name
from groundswell.petitions.models import Petition, Signature, SignatureStatus
from groundswell.workspace.models import InvalidationBatch

# Pasted ids: more than this is a job for a network, a domain or a time window (and
# SQLite takes at most 32,766 values in one query).
MAX_IDS = 20_000
SAMPLE = 10


@dataclass(frozen=True)
class Criteria:
    network: str = ""
    domain: str = ""
    since: datetime | None = None
    until: datetime | None = None
    ids: tuple[int, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (self.network or self.domain or self.since or self.until or self.ids)

    def as_details(self) -> dict[str, Any]:
        """For the batch row and the audit log (JSON)."""
        details: dict[str, Any] = {}
        if self.network:
            details["network"] = self.network
        if self.domain:
            details["domain"] = self.domain
        if self.since:
            details["since"] = self.since.isoformat()
        if self.until:
            details["until"] = self.until.isoformat()
        if self.ids:
            details["ids"] = list(self.ids)
        return details

    def as_form_data(self) -> dict[str, str]:
        """The same criteria as the form takes them, for the confirm step."""
        return {
            "network": self.network,
            "domain": self.domain,
            "since": _local_input(self.since),
            "until": _local_input(self.until),
            "ids": " ".join(str(i) for i in self.ids),
        }


def _local_input(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M") if moment else ""


def describe(details: dict[str, Any]) -> str:
    """A batch's criteria in a line, for the list of batches and the audit log."""
    parts = []
    if details.get("network"):
        parts.append(f"network {details['network']}")
    if details.get("domain"):
        parts.append(f"domain {details['domain']}")
    if details.get("since"):
        parts.append(f"from {details['since'][:16].replace('T', ' ')}")
    if details.get("until"):
        parts.append(f"before {details['until'][:16].replace('T', ' ')}")
    if details.get("ids"):
        parts.append(f"{len(details['ids'])} listed ids")
    return ", ".join(parts)


def matching(petition: Petition, criteria: Criteria) -> QuerySet[Signature]:
    """The petition's valid signatures matching every criterion given."""
    found = Signature.objects.filter(petition=petition, status=SignatureStatus.VALID)
    if criteria.network:
        found = found.filter(client_network=criteria.network)
    if criteria.domain:
        found = found.filter(email_domain=criteria.domain)
    if criteria.since:
        found = found.filter(created_at__gte=criteria.since)
    if criteria.until:
        found = found.filter(created_at__lt=criteria.until)
    if criteria.ids:
        found = found.filter(pk__in=criteria.ids)
    return found


@dataclass(frozen=True)
class Preview:
    count: int
    sample: list[dict[str, Any]]


def preview(petition: Petition, criteria: Criteria) -> Preview:
    """How many valid signatures would go, and the newest few of them (no one's email:
    the name as the public page shows it, where from, when)."""
    found = matching(petition, criteria)
    # The newest ids first, then their signers: joining every match to its signer
    # before sorting could read a hundred thousand people for a flood's ten.
    newest = list(found.order_by("-created_at", "-pk").values_list("pk", flat=True)[:SAMPLE])
    rows = (
        Signature.objects.filter(pk__in=newest)
        .order_by("-created_at", "-pk")
        .values_list(
            "pk",
            "created_at",
            "client_network",
            "email_domain",
            "person__first_name",
            "person__last_name",
            "person__postal_code",
            "person__country",
        )
    )
    return Preview(
        count=found.count(),
        sample=[
            {
                "id": pk,
                "created_at": created_at,
                "network": network,
                "domain": domain,
                "name": display_name(first or "", last or ""),
                "place": " ".join(v for v in (country, postal_code) if v),
            }
            for pk, created_at, network, domain, first, last, postal_code, country in rows
        ],
    )


_ID_SEPARATORS = re.compile(r"[\s,;]+")


class CriteriaForm(AccessibleErrorsMixin, forms.Form):
    network = forms.CharField(
        label=_("Client network"),
        max_length=50,
        required=False,
        help_text=_("An IPv4 address, or an IPv6 /64 as the tables show it."),
    )
    domain = forms.CharField(label=_("Email domain"), max_length=255, required=False)
    since = forms.DateTimeField(
        label=_("Signed from"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    until = forms.DateTimeField(
        label=_("Signed before"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    ids = forms.CharField(
        label=_("Signature ids"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Pasted, separated by spaces, commas or new lines."),
    )
    reason = forms.CharField(
        label=_("Why (kept with each signature and in the audit log)"),
        max_length=200,
        required=False,
    )

    def clean_network(self) -> str:
        return str(self.cleaned_data["network"]).strip().lower()

    def clean_domain(self) -> str:
        return str(self.cleaned_data["domain"]).strip().lower().removeprefix("@")

    def clean_ids(self) -> tuple[int, ...]:
        text = str(self.cleaned_data["ids"]).strip()
        if not text:
            return ()
        words = [w for w in _ID_SEPARATORS.split(text) if w]
        if len(words) > MAX_IDS:
            raise forms.ValidationError(
                _("At most %(max)s ids at once."), params={"max": f"{MAX_IDS:,}"}
            )
        ids = []
        for word in words:
            number = bounded_int(word.removeprefix("#"), MAX_STORED_BIGINT)
            if number is None:
                raise forms.ValidationError(
                    _("“%(word)s” is not a signature id."), params={"word": word[:30]}
                )
            ids.append(number)
        return tuple(sorted(set(ids)))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since >= until:
            self.add_error("until", _("The end of the window must come after its start."))
        if not self.errors and self.criteria().is_empty:
            raise forms.ValidationError(
                _("Give at least one criterion: a network, a domain, a time window or ids.")
            )
        return data

    def criteria(self) -> Criteria:
        data = self.cleaned_data
        return Criteria(
            network=data.get("network", ""),
            domain=data.get("domain", ""),
            since=data.get("since"),
            until=data.get("until"),
            ids=data.get("ids", ()),
        )

    def require_reason(self) -> bool:
        """For the action itself (a preview needs no reason yet)."""
        if not str(self.cleaned_data.get("reason", "")).strip():
            self.add_error("reason", _("Say why: it stays with the signatures."))
            return False
        return True


def batches(petition: Petition, limit: int = 20) -> list[InvalidationBatch]:
    return list(InvalidationBatch.objects.filter(petition=petition)[:limit])
