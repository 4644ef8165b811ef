"""The sign form's defences against scripts and floods (docs/security.md): the rate
limits per client network and per email domain, and the form's signed "shown at"
stamp with its minimum time. The honeypot field and the disposable-domain check are
the form's own (forms.py).

The rate limits keep no counter of their own. Every signature already records its
client network and email domain (Signature.client_network, email_domain, written by
the group commit with the rest of the row), so a limit is a count of the petition's
recent signatures from that network or domain. The web process works out what a
signature is counted under (counted_under: no database), and the signature writer
counts, once per batch, inside the batch's transaction (actions/signing.py): one
query per petition and key, in which the database counts the recent signatures of the
batch's networks and domains in each window through an index on (petition, network or
domain, status, created_at), then BatchCount adds the batch's own signatures one by
one. No row is written for it, so signers never
queue on a counter's lock; the sign request itself makes no query for it; and every
web process and machine sharing the database sees the same count. Within a machine
the count is exact (its one writer takes batches in turn). Writers on several
machines (PostgreSQL) would see each other's batches only once committed, and three
of them counting the same flood at the same moment could each let in a limit's
worth; so before counting, a batch takes a transaction-scoped advisory lock for each
network and domain it counts (in one order, so two batches cannot wait for each
other), and a second batch with the same network or domain counts after the first
commits. Batches with nothing in common never wait for each other.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache, partial
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from groundswell.lib import proof_of_work, signing
from groundswell.lib.db import column_in
from groundswell.lib.limits import LARGE_PROVIDERS, Rule, format_limits, is_under, parse_limits
from groundswell.petitions.forms import (
    CHALLENGE_FIELD,
    HONEYPOT_FIELD,
    SHOWN_FIELD,
    SOLUTION_FIELD,
)
from groundswell.petitions.models import SIGN_LIMIT_KEYS, Petition, Signature, SignatureStatus

# --- Rate limits ------------------------------------------------------------------


@lru_cache(maxsize=256)
def _petition_rules(text: str) -> dict[str, Rule]:
    return parse_limits(text, keys=SIGN_LIMIT_KEYS, defaults=settings.SIGN_LIMITS)


def limits_for(petition: Petition) -> dict[str, Rule]:
    """The petition's own limits where it sets them, else the site's (SIGN_LIMITS)."""
    if not petition.sign_limits:
        return dict(settings.SIGN_LIMITS)
    return _petition_rules(petition.sign_limits)


def domain_is_counted(domain: str) -> bool:
    return bool(domain) and not (
        is_under(domain, LARGE_PROVIDERS) or is_under(domain, settings.SIGN_LIMITS_EXEMPT_DOMAINS)
    )


@dataclass(frozen=True)
class OverLimit:
    """Why a signature is refused for now, and when the same one would be taken."""

    key: str  # "network" or "domain"
    retry_at: datetime

    def retry_after_seconds(self, now: datetime) -> int:
        return max(1, int((self.retry_at - now).total_seconds()) + 1)

    def explanation(self, now: datetime) -> str:
        """What the signer reads above the form they filled in."""
        minutes = max(1, -(-self.retry_after_seconds(now) // 60))
        if self.key == "network":
            why = _("Many people have signed this petition from your network in a short time.")
        else:
            why = _("Many people have signed this petition with your email domain in a short time.")
        when = ngettext(
            "To keep the count honest we take no more for now: please try again in %(n)s minute.",
            "To keep the count honest we take no more for now: please try again in %(n)s minutes.",
            minutes,
        ) % {"n": minutes}
        return f"{why} {when}"


def counted_under(
    petition: Petition, network: str, domain: str | None
) -> tuple[str, dict[str, str]]:
    """What a signature from this network and email domain is counted under: the
    petition's rules (written out, for the signature writer, which may be another
    process) and the value of each key that has a rule; ("", {}) when none does.
    A domain of None is not known yet: the writer adds it (with_domain)."""
    rules = limits_for(petition)
    counted = {}
    if network and rules.get("network"):
        counted["network"] = network
    if domain is not None and rules.get("domain") and domain_is_counted(domain):
        counted["domain"] = domain
    later = domain is None and bool(rules.get("domain"))
    return (format_limits(rules) if counted or later else ""), counted


def with_domain(rules_text: str, counted: dict[str, str], domain: str) -> dict[str, str]:
    """`counted` (from counted_under, the domain not known then) with the domain, once
    known, where the rules count it."""
    if not parse_rules(rules_text).get("domain") or not domain_is_counted(domain):
        return counted
    return {**counted, "domain": domain}


@lru_cache(maxsize=256)
def parse_rules(rules_text: str) -> dict[str, Rule]:
    return parse_limits(rules_text, keys=SIGN_LIMIT_KEYS, defaults={})


class BatchCount:
    """The signature writer's count for one batch (actions/signing.py): how many recent
    signatures each (petition, key, value) has in each window, as read at the start of
    the batch, plus those this batch takes, so that a flood arriving together is cut at
    its limit exactly. Only a refusal needs a moment (when the window has room again):
    `nth_latest` reads it from the database then, and only then."""

    def __init__(
        self,
        counts: dict[tuple[int, str, str], dict[timedelta, int]],
        now: datetime,
        nth_latest: Callable[[tuple[int, str, str], timedelta, int], datetime],
    ):
        self.counts = counts
        self.now = now
        self.nth_latest = nth_latest
        # Taken by this batch so far, all counted at `now`.
        self.added: dict[tuple[int, str, str], int] = {}

    def admit(self, petition_id: int, rules_text: str, counted: dict[str, str]) -> OverLimit | None:
        """None, counting the signature in, when every window has room; else the
        latest moment one of them has, and nothing is counted."""
        rules = parse_rules(rules_text)
        latest: OverLimit | None = None
        for key, value in counted.items():
            counting = (petition_id, key, value)
            stored, added = self.counts.get(counting, {}), self.added.get(counting, 0)
            for window in rules.get(key, ()):
                if stored.get(window.period, 0) + added < window.count:
                    continue
                # Room again when the window.count-th latest signature leaves it.
                nth = window.count - added
                oldest = self.now if nth <= 0 else self.nth_latest(counting, window.period, nth)
                retry_at = oldest + window.period
                if latest is None or retry_at > latest.retry_at:
                    latest = OverLimit(key, retry_at)
        if latest is None:
            for key, value in counted.items():
                counting = (petition_id, key, value)
                self.added[counting] = self.added.get(counting, 0) + 1
        return latest


# --- The form's "shown at" stamp ----------------------------------------------------

STAMP = signing.Purpose(salt=b"groundswell.sign-form-shown", length=16)
# A page kept open longer than this asks for one more press of the button.
STAMP_MAX_AGE = 24 * 3600


def form_stamp(at: float | None = None) -> str:
    """The value of the form's hidden `shown` field: when the page was made, signed."""
    seconds = str(int(at if at is not None else time.time()))
    return f"{seconds}.{signing.sign(STAMP, seconds)}"


def _stamp_age(stamp: str, now: float) -> float | None:
    """Seconds since this stamp was made, or None when it is not one of ours."""
    seconds, _dot, tag = stamp.partition(".")
    if not (seconds.isascii() and seconds.isdigit() and len(seconds) <= 12):
        return None
    if not signing.verify(STAMP, seconds, tag):
        return None
    return now - int(seconds)


def stamp_to_keep(stamp: str) -> str:
    """For the form shown again after a problem: the stamp it was sent with, when that
    is a genuine one still in date (a person correcting a field quickly is not made to
    wait again), else a new one."""
    age = _stamp_age(stamp, time.time())
    if age is None or age > STAMP_MAX_AGE:
        return form_stamp()
    return stamp


def min_seconds_for(petition: Petition) -> int:
    if petition.sign_min_seconds is not None:
        return petition.sign_min_seconds
    return int(settings.SIGN_MIN_SECONDS)


def confirms_by_email(petition: Petition) -> bool:
    """Whether a new signature waits for its signer to confirm it by email: the
    petition's choice, or else the site's (SIGN_CONFIRM_BY_EMAIL)."""
    if petition.confirm_by_email is not None:
        return petition.confirm_by_email
    return bool(settings.SIGN_CONFIRM_BY_EMAIL)


def form_problem(petition: Petition, data: Any, *, recognised: bool) -> str | None:
    """Why this submission looks like a script's, as a sentence for the signer: the
    honeypot filled in, or (for someone not recognised by their member link) the
    form sent sooner than a person could, or without the page's stamp. None: it
    does not."""
    if data.get(HONEYPOT_FIELD, ""):
        return _("Leave the field “Leave this field empty” empty, and press Sign again.")
    if recognised:
        return None
    return timing_problem(petition, data.get(SHOWN_FIELD, "")) or proof_problem(petition, data)


def timing_problem(petition: Petition, stamp: str, *, now: float | None = None) -> str | None:
    """Why a submission carrying this stamp is refused, as a sentence for the signer;
    None when it is taken. A person is shown the form again with a new stamp, and
    their next press is in time."""
    minimum = min_seconds_for(petition)
    if minimum == 0:
        return None
    age = _stamp_age(stamp, now if now is not None else time.time())
    if age is None:
        return _("Something went wrong with the form. Check your details and press Sign again.")
    if age < minimum:
        return _("That was quicker than we expected. Check your details and press Sign again.")
    if age > STAMP_MAX_AGE:
        return _("This page had been open a long time. Check your details and press Sign again.")
    return None


# --- The proof of work -------------------------------------------------------------
# (lib/proof_of_work.py). It does not apply to a recognised member's one-click
# signature, like the minimum time: their link already proves they are not a script.


def proof_of_work_for(petition: Petition) -> str:
    """ "off", "allow" (browsers solve it; a form sent without a solution, as without
    JavaScript, is taken too) or "require": the petition's choice, else the site's
    (SIGN_PROOF_OF_WORK)."""
    return petition.proof_of_work or str(settings.SIGN_PROOF_OF_WORK)


def challenge_fields(petition: Petition) -> dict[str, str]:
    """The form's hidden challenge, made for this request (like the "shown at" stamp,
    never cached); nothing when the petition asks for no proof of work."""
    if proof_of_work_for(petition) == "off":
        return {}
    challenge = proof_of_work.make_challenge(
        petition.pk, int(settings.SIGN_PROOF_OF_WORK_BITS), STAMP_MAX_AGE
    )
    return {CHALLENGE_FIELD: challenge}


def proof_problem(petition: Petition, data: Any, *, now: float | None = None) -> str | None:
    """Why a submission's proof of work is refused, as a sentence for the signer; None
    when it is taken. A solution sent is always checked; none at all is taken where
    the petition allows it (a browser without JavaScript)."""
    mode = proof_of_work_for(petition)
    if mode == "off":
        return None
    solution = data.get(SOLUTION_FIELD, "")
    if not solution:
        if mode == "allow":
            return None
        return _(
            "Signing this petition needs JavaScript: your browser does a quick check that "
            "keeps scripts out. Turn JavaScript on, or use another browser, and press Sign "
            "again."
        )
    solved = proof_of_work.check(
        data.get(CHALLENGE_FIELD, ""),
        solution,
        subject=petition.pk,
        email=data.get("email", ""),
        min_bits=int(settings.SIGN_PROOF_OF_WORK_BITS),
        now=now,
    )
    if not solved:
        return _(
            "Your browser's check before sending did not work out. Check your details and "
            "press Sign again."
        )
    return None


# The Signature column each rate-limit key counts.
LIMITED_COLUMNS = {"network": "client_network", "domain": "email_domain"}


def count_recent(
    wanted: dict[tuple[int, str], set[str]],
    periods: dict[tuple[int, str], set[timedelta]],
    *,
    now: datetime,
) -> BatchCount:
    """The signatures of each (petition, key) and value wanted in each of its periods
    up to `now`, whatever their status (an invalidated flood still counts against its
    sender): one query per petition and key, counted by the database through the
    index on (petition, network or domain, status, created_at), every status named so
    that both are read as ranges of it. By hand, as it runs in every batch."""
    _lock_counted_values(wanted)
    counts: dict[tuple[int, str, str], dict[timedelta, int]] = {}
    meta, quote = Signature._meta, connection.ops.quote_name
    table, status = quote(meta.db_table), quote(meta.get_field("status").column)
    created = quote(meta.get_field("created_at").column)
    petition = quote(meta.get_field("petition").column)
    statuses = list(SignatureStatus.values)
    for (petition_id, key), values in wanted.items():
        spans = sorted(periods[(petition_id, key)])
        column = quote(LIMITED_COLUMNS[key])
        starts = [connection.ops.adapt_datetimefield_value(now - span) for span in spans]
        sums = ", ".join([f"SUM(CASE WHEN {created} >= %s THEN 1 ELSE 0 END)"] * len(spans))
        values_clause, values_params = column_in(column, values)
        status_clause, status_params = column_in(status, statuses)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {column}, {sums} FROM {table} "  # noqa: S608
                f"WHERE {petition} = %s AND {values_clause} AND {status_clause} "
                f"AND {created} >= %s GROUP BY {column}",
                [*starts, petition_id, *values_params, *status_params, starts[-1]],
            )
            for value, *inside in cursor.fetchall():
                counts[(petition_id, key, value)] = dict(zip(spans, map(int, inside), strict=True))
    return BatchCount(counts, now, partial(_nth_latest, now=now))


def _nth_latest(
    counting: tuple[int, str, str], period: timedelta, n: int, *, now: datetime
) -> datetime:
    """When the n-th latest signature of this petition, key and value within `period`
    of `now` was made: the moment whose leaving the window makes room (BatchCount)."""
    petition_id, key, value = counting
    found = (
        Signature.objects.filter(
            petition_id=petition_id,
            status__in=SignatureStatus.values,
            created_at__gte=now - period,
            **{LIMITED_COLUMNS[key]: value},
        )
        .order_by("-created_at")
        .values_list("created_at", flat=True)[n - 1 : n]
    )
    # None only when rows left the window since they were counted: room already.
    return next(iter(found), now - period)


def _advisory_key(petition_id: int, key: str, value: str) -> int:
    digest = hashlib.blake2b(f"{petition_id}:{key}:{value}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _lock_counted_values(wanted: dict[tuple[int, str], set[str]]) -> None:
    """On PostgreSQL, inside the batch's transaction: wait for any other writer's
    batch counting the same petition's network or domain to commit (docstring above).
    SQLite has one writer at a time already."""
    if connection.vendor != "postgresql" or not wanted:
        return
    keys = sorted(
        {
            _advisory_key(petition_id, key, value)
            for (petition_id, key), values in wanted.items()
            for value in values
        }
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_advisory_xact_lock(k))"
            " FROM (SELECT unnest(%s::bigint[]) AS k ORDER BY 1) AS ordered",
            [keys],
        )
