"""What the demo shows: fictional organisations running two real-world campaigns.

The organisations, their staff and every member are invented (their web and mail
domains end in .example, which can never reach anyone). The campaigns' subject,
the company, the agency, the contract, the figures and the dates are public
facts, told here in our own words. The words and figures are in content.toml;
this module reads them once into the shapes the loader takes.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class DemoOrganisation:
    slug: str
    name: str
    website: str
    privacy_policy_url: str
    sender_email: str
    postal_address: str
    sender_name: str
    list_name: str
    list_description: str


@dataclass(frozen=True)
class DemoPetition:
    slug: str
    title: str
    target: str
    statement: str
    background: str
    sponsor_slugs: tuple[str, ...]
    consent_mode: str  # "notice" or "explicit", as in petitions.models.ConsentMode
    goal: int
    opened_days_ago: int
    thank_you_text: str
    share_text: str
    # Days after opening when an email to the lists sent people to the page.
    email_blast_days: tuple[float, ...]
    # Chance that a signer picks each source, in this order: email, facebook, twitter, website.
    source_weights: tuple[float, float, float, float]
    # Explicit consent only: chance a signer ticks each sponsor's box.
    opt_in_rates: dict[str, float] = field(default_factory=dict)


SOURCES = ("email", "facebook", "twitter", "website")
UNSUBSCRIBE_SOURCE = "unsubscribe-page"


def organisation(slug: str) -> DemoOrganisation:
    return next(org for org in ORGANISATIONS if org.slug == slug)


@dataclass(frozen=True)
class DemoMailing:
    """Campaign B's email blast, left as a draft for staff to preview, test and send."""

    organisation_slug: str
    petition_slug: str
    subject: str
    preheader: str
    body: str
    signoff_name: str
    signoff_title: str


_DATA = tomllib.loads(
    resources.files("groundswell.demo").joinpath("content.toml").read_text("utf-8")
)


def _petition(data: dict[str, Any]) -> DemoPetition:
    lists = ("sponsor_slugs", "email_blast_days", "source_weights")
    return DemoPetition(**{**data, **{key: tuple(data[key]) for key in lists}})


ORGANISATIONS = tuple(DemoOrganisation(**data) for data in _DATA["organisations"])
TALLGRASS_TRUST, TALLGRASS_FUND, FIELDSTONE, HARBOURLIGHT, CEDAR_VALLEY, KEYSTROKE = ORGANISATIONS

PETITIONS = tuple(_petition(data) for data in _DATA["petitions"])
CAMPAIGN_A, CAMPAIGN_B = PETITIONS

# The member to look for in the admin and on the page ("Not Katy? Click here."), as
# PlannedPerson takes her, and her signature of Campaign A as PlannedSignature does.
KATY: dict[str, str] = _DATA["katy"]
KATY_SIGNATURE: dict[str, Any] = _DATA["katy_signature"]

COMMENTS: tuple[str, ...] = tuple(_DATA["crowd"]["comments"])

CAMPAIGN_B_MAILING = DemoMailing(**_DATA["mailing"])
