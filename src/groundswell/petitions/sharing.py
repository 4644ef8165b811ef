"""The thank-you page's share links: the page link to copy, and one per network, each
carrying its own source (and the signer's referral code) so the reports can tell
which network brought whom."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlencode

from django.utils.translation import gettext as _

from groundswell.petitions.models import Petition
from groundswell.petitions.pages import absolute_url


@dataclass(frozen=True)
class ShareLink:
    network: str
    label: str
    url: str


def share_links(petition: Petition, referral_code: str) -> tuple[str, list[ShareLink]]:
    """The page link to copy, and one link per network, each with its own source."""

    def link(source: str) -> str:
        params = {"source": source}
        if referral_code:
            params["ref"] = referral_code
        return absolute_url(f"{petition.get_absolute_url()}?{urlencode(params)}")

    text = petition.share_text or _("I just signed “%(title)s”. Will you add your name?") % {
        "title": petition.title
    }
    links = [
        ShareLink(
            "facebook",
            _("Share on Facebook"),
            "https://www.facebook.com/sharer/sharer.php?u=" + quote(link("share-facebook")),
        ),
        ShareLink(
            "x",
            _("Post on X"),
            "https://x.com/intent/tweet?" + urlencode({"text": text, "url": link("share-x")}),
        ),
        ShareLink(
            "bluesky",
            _("Post on Bluesky"),
            "https://bsky.app/intent/compose?"
            + urlencode({"text": f"{text} {link('share-bluesky')}"}),
        ),
        ShareLink(
            "whatsapp",
            _("Send on WhatsApp"),
            "https://wa.me/?" + urlencode({"text": f"{text} {link('share-whatsapp')}"}),
        ),
        ShareLink(
            "email",
            _("Send by email"),
            "mailto:?"
            + urlencode(
                {"subject": petition.title, "body": f"{text}\n\n{link('share-email')}"},
                quote_via=quote,
            ),
        ),
    ]
    return link("share-copy"), links
