"""A mailing's links: numbering, the standard links, the web version's tag, TrackedLink rows.

This module is the only writer of TrackedLink. Links are refreshed only while the
mailing is a draft (or scheduled); once its send has started the rows are frozen and
every destination comes from the database, so a link's number always means the same
page, and /go/ can never be pointed anywhere the mailing did not contain.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, urlencode, urlsplit

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from markdown_it.token import Token

from groundswell.lib import signing
from groundswell.mailings.models import LinkKind, Mailing, MailingStatus, TrackedLink
from groundswell.petitions.models import Petition

from .holes import MARKER, MERGE_URL, site_base

# Links may be renumbered only before the send starts.
EDITABLE_STATUSES = (MailingStatus.DRAFT, MailingStatus.SCHEDULED)
_SIGN_PATH = re.compile(r"^/sign/([-a-zA-Z0-9_]+)/?$")

WEB_VERSION = signing.Purpose(salt=b"groundswell.mailing-web-version.v1", length=12, encoding="hex")

URL_FIELD_KINDS = {
    "petition_url": LinkKind.PETITION,
    "profile_url": LinkKind.PROFILE,
    "subscriptions_url": LinkKind.SUBSCRIPTIONS,
    "unsubscribe_url": LinkKind.SUBSCRIPTIONS,
    "web_version_url": LinkKind.WEB_VERSION,
}
# Member pages take the reader's token in the path: /profile/<akid>/?t=<n>.
MEMBER_PAGE_KINDS = (LinkKind.PROFILE, LinkKind.SUBSCRIPTIONS)


class RenderError(ValueError):
    """The mailing cannot be rendered as written; the message tells staff why."""


class LinksFrozen(RenderError):
    """The mailing's links no longer match the rows frozen when its send started."""


# ---------------------------------------------------------------------------
# The public web version's stable address


def web_version_path(mailing_id: int) -> str:
    return f"/mail/{mailing_id}-{signing.sign(WEB_VERSION, str(mailing_id))}/"


def web_version_url(mailing_id: int) -> str:
    return site_base() + web_version_path(mailing_id)


def is_web_version_tag(mailing_id: int, tag: str) -> bool:
    return signing.verify(WEB_VERSION, str(mailing_id), tag)


# ---------------------------------------------------------------------------
# Links


@dataclass(frozen=True)
class LinkSpec:
    number: int
    kind: str
    url: str
    petition_id: int | None = None
    petition_slug: str = ""
    label: str = ""

    def href(self, mailing_id: int, *, personal: bool) -> tuple[str, str]:
        """(before the token, after the token); the token goes between them."""
        base = site_base()
        if self.kind == LinkKind.PETITION and self.petition_slug:
            path = f"{base}/sign/{self.petition_slug}/?t={self.number}"
            return (f"{path}&akid=", "") if personal else (path, "")
        if self.kind in MEMBER_PAGE_KINDS:
            if personal:
                return self.url, f"/?t={self.number}"
            # Nobody to name in a web version: the privacy page explains the choices.
            return f"{base}/privacy/", ""
        go = f"{base}/go/{mailing_id}/{self.number}/"
        return (f"{go}?akid=", "") if personal else (go, "")


def _share_target(petition: Petition, mailing_id: int, network: str) -> str:
    query = urlencode(
        {
            "source": f"share-{network}",
            "utm_source": network,
            "utm_medium": "social",
            "utm_campaign": f"mailing-{mailing_id}",
        }
    )
    return f"{site_base()}{petition.get_absolute_url()}?{query}"


def standard_links(mailing: Mailing, first: int) -> list[LinkSpec]:
    links: list[LinkSpec] = []
    number = first
    petition = mailing.petition
    if petition is not None:
        text = petition.share_text or petition.title
        facebook = "https://www.facebook.com/sharer/sharer.php?u=" + quote(
            _share_target(petition, mailing.pk, "facebook"), safe=""
        )
        x = "https://x.com/intent/tweet?" + urlencode(
            {"text": text, "url": _share_target(petition, mailing.pk, "x")}
        )
        for url, label in ((facebook, "Facebook"), (x, "X")):
            links.append(LinkSpec(number, LinkKind.SHARE, url, petition.pk, "", label))
            number += 1
    base = site_base()
    links.append(
        LinkSpec(number, LinkKind.WEB_VERSION, web_version_url(mailing.pk), label="web version")
    )
    links.append(LinkSpec(number + 1, LinkKind.PROFILE, f"{base}/profile/", label="profile"))
    links.append(
        LinkSpec(number + 2, LinkKind.SUBSCRIPTIONS, f"{base}/unsubscribe/", label="unsubscribe")
    )
    return links


class Petitions:
    """Petitions named by links, looked up once per slug."""

    def __init__(self) -> None:
        self.by_slug: dict[str, Petition | None] = {}

    def get(self, slug: str) -> Petition | None:
        if slug not in self.by_slug:
            self.by_slug[slug] = Petition.objects.filter(slug=slug).first()
        return self.by_slug[slug]


def classify(
    href: str, mailing: Mailing, petitions: Petitions
) -> tuple[str, str, Petition | None] | None:
    """(kind, destination, petition) for a link in the body; None leaves it unnumbered."""
    if href.startswith(MERGE_URL):
        name = href[len(MERGE_URL) :]
        kind = URL_FIELD_KINDS[name]
        base = site_base()
        if kind == LinkKind.PETITION:
            if mailing.petition is None:
                raise RenderError(
                    _("The body uses {{ petition_url }}: choose the mailing's petition first.")
                )
            return kind, base + mailing.petition.get_absolute_url(), mailing.petition
        if kind == LinkKind.WEB_VERSION:
            return kind, web_version_url(mailing.pk), None
        path = {"profile_url": "/profile/", "subscriptions_url": "/subscriptions/"}.get(
            name, "/unsubscribe/"
        )
        return kind, base + path, None
    if "%EE%80%80" in href.upper():
        raise RenderError(
            _("Merge fields cannot be part of a link's address; use {{ petition_url }} and the "
              "other link fields, or a plain address.")
        )  # fmt: skip
    if href.startswith("#") or href.startswith("mailto:"):
        return None
    base = site_base()
    if href.startswith("//"):
        href = "https:" + href
    elif href.startswith("/"):
        href = base + href
    parts = urlsplit(href)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    if f"{parts.scheme}://{parts.netloc}" == base:
        match = _SIGN_PATH.match(parts.path)
        petition = petitions.get(match.group(1)) if match else None
        if petition is not None:
            return LinkKind.PETITION, base + petition.get_absolute_url(), petition
    return LinkKind.EXTERNAL, href, None


def link_label(children: list[Token], start: int) -> str:
    label = []
    for child in children[start + 1 :]:
        if child.type == "link_close":
            break
        if child.type in ("text", "code_inline"):
            label.append(child.content)
    text = MARKER.sub("…", "".join(label)).strip()
    return text[:300]


# ---------------------------------------------------------------------------
# Freezing the numbers


def sync_links(mailing: Mailing, specs: list[LinkSpec], *, editable: bool) -> list[LinkSpec]:
    """Keep the numbers as TrackedLink rows; once sending, read them back and insist."""
    with transaction.atomic():
        rows = {
            row.number: row
            for row in TrackedLink.objects.select_for_update(of=("self",))
            .filter(mailing=mailing)
            .select_related("petition")
        }
        if not editable and rows:
            return _frozen(specs, rows)
        wanted = {spec.number for spec in specs}
        for spec in specs:
            row = rows.get(spec.number)
            values = {
                "kind": spec.kind,
                "url": spec.url,
                "petition_id": spec.petition_id,
                "label": spec.label,
            }
            if row is None:
                try:
                    with transaction.atomic():
                        TrackedLink.objects.create(mailing=mailing, number=spec.number, **values)
                except IntegrityError:
                    # Another process froze the same links at the same moment.
                    if editable:
                        raise
                    return sync_links(mailing, specs, editable=False)
            elif any(getattr(row, key) != value for key, value in values.items()):
                for key, value in values.items():
                    setattr(row, key, value)
                row.save(update_fields=[*values])
        extra = [number for number in rows if number not in wanted]
        if extra:
            TrackedLink.objects.filter(mailing=mailing, number__in=extra).delete()
    return specs


def _frozen(specs: list[LinkSpec], rows: Mapping[int, TrackedLink]) -> list[LinkSpec]:
    if len(rows) != len(specs):
        raise LinksFrozen(_("The mailing's links changed after its send started."))
    frozen = []
    for spec in specs:
        row = rows.get(spec.number)
        if row is None or row.kind != spec.kind or row.url != spec.url:
            raise LinksFrozen(_("The mailing's links changed after its send started."))
        frozen.append(
            LinkSpec(
                number=row.number,
                kind=row.kind,
                url=row.url,
                petition_id=row.petition_id,
                petition_slug=row.petition.slug if row.petition else "",
                label=row.label,
            )
        )
    return frozen
