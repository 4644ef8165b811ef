"""The signature writer's rate-limit count (petitions/defences.py): the database counts
each network's and domain's recent signatures per window, and a batch adds its own.
It must give the same answers as the rule written plainly: keep every signature's
moment, count those inside each window, refuse at the limit, and name the moment the
window has room again."""

from __future__ import annotations

from bisect import bisect_left
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from groundswell.lib.limits import Window, format_limits
from groundswell.petitions.defences import BatchCount, OverLimit, count_recent, parse_rules
from groundswell.petitions.models import Petition, Signature, SignatureStatus
from tests.cast import make_petition

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
PERIODS = [timedelta(minutes=10), timedelta(hours=1), timedelta(hours=24)]


def plain_rule(
    stored: list[datetime], rules_text: str, signatures: int, now: datetime
) -> list[datetime | None]:
    """Each signature's answer by the rule as written: None (taken) or when to retry."""
    times = sorted(stored)
    answers: list[datetime | None] = []
    for _ in range(signatures):
        latest = None
        for window in parse_rules(rules_text)["network"]:
            inside = len(times) - bisect_left(times, now - window.period)
            if inside >= window.count:
                retry_at = times[len(times) - window.count] + window.period
                latest = retry_at if latest is None else max(latest, retry_at)
        if latest is None:
            times.append(now)
        answers.append(latest)
    return answers


def counted_from_list(stored: list[datetime], rules_text: str, now: datetime) -> BatchCount:
    """A BatchCount over these moments, counted the way count_recent's query does."""
    counting = (1, "network", "192.0.2.7")
    spans = {w.period for w in parse_rules(rules_text)["network"]}
    counts = {counting: {span: sum(t >= now - span for t in stored) for span in spans}}

    def nth_latest(key: tuple[int, str, str], period: timedelta, n: int) -> datetime:
        assert key == counting
        return sorted((t for t in stored if t >= now - period), reverse=True)[n - 1]

    return BatchCount(counts, now, nth_latest)


windows = st.lists(
    st.tuples(st.integers(1, 6), st.sampled_from(PERIODS)),
    min_size=1,
    max_size=3,
    unique_by=lambda w: w[1],
)


@given(
    ages=st.lists(st.integers(0, 2 * 24 * 3600), max_size=30),
    rules=windows,
    signatures=st.integers(1, 10),
)
def test_it_answers_as_the_rule_written_plainly(
    ages: list[int], rules: list[tuple[int, timedelta]], signatures: int
) -> None:
    rule = tuple(sorted((Window(count, period) for count, period in rules), key=lambda w: w.period))
    text = format_limits({"network": rule, "domain": ()})
    stored = [NOW - timedelta(seconds=age) for age in ages]
    batch = counted_from_list(stored, text, NOW)

    answers = [batch.admit(1, text, {"network": "192.0.2.7"}) for _ in range(signatures)]

    expected = plain_rule(stored, text, signatures, NOW)
    assert [a.retry_at if isinstance(a, OverLimit) else None for a in answers] == expected


@pytest.mark.django_db
class TestCountedByTheDatabase:
    def sign_at(self, petition: Petition, network: str, age: timedelta, **fields: str) -> None:
        signature = Signature.objects.create(
            petition=petition, client_network=network, email_domain="example.org", **fields
        )
        Signature.objects.filter(pk=signature.pk).update(created_at=timezone.now() - age)

    def test_it_counts_each_window_whatever_the_status_and_no_other_network(self) -> None:
        petition, other = make_petition(), make_petition("another-one")
        for minutes in (1, 5, 30, 90, 60 * 30):
            self.sign_at(petition, "192.0.2.7", timedelta(minutes=minutes))
        self.sign_at(
            petition, "192.0.2.7", timedelta(minutes=2), status=SignatureStatus.INVALIDATED
        )
        self.sign_at(petition, "198.51.100.1", timedelta(minutes=3))
        self.sign_at(other, "192.0.2.7", timedelta(minutes=3))
        key = (petition.pk, "network")

        batch = count_recent({key: {"192.0.2.7"}}, {key: set(PERIODS)}, now=timezone.now())

        assert batch.counts == {
            (petition.pk, "network", "192.0.2.7"): {
                PERIODS[0]: 3,
                PERIODS[1]: 4,
                PERIODS[2]: 5,
            }
        }

    def test_a_refusal_names_the_moment_the_window_has_room(self) -> None:
        petition = make_petition()
        for minutes in (1, 4, 7):
            self.sign_at(petition, "192.0.2.7", timedelta(minutes=minutes))
        key = (petition.pk, "network")
        now = timezone.now()
        batch = count_recent({key: {"192.0.2.7"}}, {key: {PERIODS[0]}}, now=now)
        text = "network=2/10m; domain=off"

        over = batch.admit(petition.pk, text, {"network": "192.0.2.7"})

        assert over is not None and over.key == "network"
        # The second latest, four minutes ago, leaves the ten minutes in six.
        assert abs(over.retry_at - (now + timedelta(minutes=6))) < timedelta(seconds=5)
