"""Telling machine clicks from people's.

Mail security scanners (Safe Links and the like) fetch every link in a message,
usually within seconds of delivery and often all at once. A click is a machine's when

1. its browser names a known scanner or HTTP library (`KNOWN_SCANNERS`), or
2. it came less than `AFTER_SEND_SECONDS` after we handed this recipient's copy to
   the mail server (MailingRecipient.sent_at): too fast for a person to see, open
   and click, or
3. the same recipient clicked `BURST_LINKS` or more different links within
   `BURST_SECONDS` of each other: a burst. Every click in the burst is a machine's.

A person can be misjudged by rule 2 only with the mail program open at the moment
it arrives and a click within seconds; rule 3 only by opening three links in two
seconds. Both are rare, and a misjudged person still counts as an action when they
sign. Clicks without a recipient (no valid member token) can be judged by rule 1 only.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

AFTER_SEND_SECONDS = 10
BURST_LINKS = 3
BURST_SECONDS = 2

KNOWN_SCANNERS = re.compile(
    r"barracuda|mimecast|proofpoint|safelinks|microsoft office|ms-office|"
    r"bingpreview|symantec|forcepoint|sophos|trendmicro|fortiguard|checkpoint|"
    r"ironport|zscaler|appriver|googleimageproxy|python-requests|python-urllib|"
    r"curl/|wget/|go-http-client|java/|okhttp|httpclient|libwww-perl|headlesschrome|"
    r"bot/|bot;|\bbot\b|crawler|spider|scanner",
    re.IGNORECASE,
)

REASON_SCANNER = "scanner"
REASON_TOO_SOON = "too-soon"
REASON_BURST = "burst"


# Asked for every click, and a wave of clicks comes from a few hundred browser versions.
@lru_cache(maxsize=4096)
def scanner_reason(user_agent: str) -> str:
    """Rule 1: "scanner" for an empty or known-scanner browser name, else ""."""
    if not user_agent.strip() or KNOWN_SCANNERS.search(user_agent):
        return REASON_SCANNER
    return ""


def too_soon(clicked_at: datetime, sent_at: datetime | None) -> bool:
    """Rule 2."""
    return sent_at is not None and clicked_at - sent_at < timedelta(seconds=AFTER_SEND_SECONDS)


@dataclass(frozen=True)
class TimedClick:
    key: tuple[str, int]
    link_number: int
    clicked_at: datetime


def burst_keys(clicks: Sequence[TimedClick]) -> set[tuple[str, int]]:
    """Rule 3 over one recipient's clicks: the keys of every click that is part of a
    window of BURST_SECONDS holding BURST_LINKS or more distinct links.

    One pass with a sliding window, each click added once: a script that clicks one
    link thousands of times a second must not make the flush that records it
    quadratic (it holds the writers' turn meanwhile)."""
    ordered = sorted(clicks, key=lambda c: c.clicked_at)
    window = timedelta(seconds=BURST_SECONDS)
    found: set[tuple[str, int]] = set()
    links: Counter[int] = Counter()  # link number -> clicks on it in the window
    start = marked = 0
    for end, click in enumerate(ordered):
        links[click.link_number] += 1
        while click.clicked_at - ordered[start].clicked_at > window:
            number = ordered[start].link_number
            links[number] -= 1
            if not links[number]:
                del links[number]
            start += 1
        if len(links) >= BURST_LINKS:
            found.update(c.key for c in ordered[max(start, marked) : end + 1])
            marked = end + 1
    return found
