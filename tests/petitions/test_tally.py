"""The dashboard's figures: hourly tallies kept in the background plus the newest
signatures, always equal to grouping every signature at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from groundswell.members.models import Person
from groundswell.petitions.actions.signatures import (
    do_invalidate_signatures,
    do_restore_signatures,
)
from groundswell.petitions.models import Petition, Signature, SignatureTally, TallyMark
from groundswell.petitions.tally import dashboard
from groundswell.petitions.tally.counting import grouped
from groundswell.petitions.tally.refresh import horizon, petitions_to_refresh, refresh
from groundswell.petitions.tasks import refresh_tallies
from tests.cast import make_petition

pytestmark = pytest.mark.django_db

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def sign(
    petition: Petition,
    n: int,
    *,
    minutes: float,
    source: str = "",
    country: str = "US",
    postal_code: str = "94110",
    new: bool = True,
    referer: str = "",
) -> Signature:
    at = START + timedelta(minutes=minutes)
    person = Person.objects.create(
        email=f"signer{n}@example.org",
        email_normalised=f"signer{n}@example.org",
        first_name=f"Signer{n}",
        country=country,
        postal_code=postal_code,
    )
    Person.objects.filter(pk=person.pk).update(
        created_at=at - timedelta(seconds=2) if new else at - timedelta(days=90)
    )
    signature = Signature.objects.create(
        petition=petition, person=person, source=source, http_referer=referer
    )
    Signature.objects.filter(pk=signature.pk).update(created_at=at)
    return signature


def direct(petition: Petition, now: datetime) -> dict:
    """The figures from every signature at once, without tallies."""
    return dashboard.shape(grouped(petition.pk, None, None), now)


@pytest.fixture
def petition(db) -> Petition:
    return make_petition()


class TestFigures:
    def test_it_counts_by_source_referrer_country_region_and_membership(self, petition):
        sign(petition, 1, minutes=5, source="email", new=False)
        sign(petition, 2, minutes=20, source="share-facebook", referer="https://m.facebook.com/x")
        sign(petition, 3, minutes=70, source="email", country="GB", postal_code="ec1a 1bb")
        now = START + timedelta(hours=3)
        figures = dashboard.figures(petition, now=now)
        assert figures["total"] == 3
        assert figures["by_source"] == [
            {"source": "email", "count": 2},
            {"source": "share-facebook", "count": 1},
        ]
        assert {"referrer": "m.facebook.com", "count": 1} in figures["by_referrer"]
        assert figures["by_country"] == [
            {"country": "US", "count": 2},
            {"country": "GB", "count": 1},
        ]
        assert {"region": "GB EC1", "count": 1} in figures["by_region"]
        assert (figures["new_members"], figures["existing_members"]) == (2, 1)
        hours = {row["hour"]: row["count"] for row in figures["by_hour"]}
        assert hours[START.isoformat()] == 2
        assert hours[(START + timedelta(hours=1)).isoformat()] == 1
        assert len(figures["by_hour"]) == 72
        assert figures["by_day"][-1]["cumulative"] == 3

    def test_it_leaves_invalidated_signatures_out(self, petition):
        kept = sign(petition, 1, minutes=5)
        gone = sign(petition, 2, minutes=6)
        do_invalidate_signatures("staff:alice", [gone.pk], reason="spam")
        assert dashboard.figures(petition)["total"] == 1
        assert kept.pk


class TestRefresh:
    def test_it_gives_the_same_figures_from_tallies_and_the_newest_signatures(self, petition):
        for n in range(6):
            sign(petition, n, minutes=n * 50, source=["email", "", "x"][n % 3])
        refresh(petition.pk, now=START + timedelta(minutes=300))
        for n in range(6, 9):
            sign(petition, n, minutes=600 + n, source="email")
        now = START + timedelta(hours=20)
        assert dashboard.figures(petition, now=now) == direct(petition, now)
        assert dashboard.figures(petition, now=now)["total"] == 9

    def test_it_follows_an_invalidation_and_a_restore_at_once(self, petition):
        signatures = [sign(petition, n, minutes=n, source="email") for n in range(4)]
        refresh(petition.pk)
        do_invalidate_signatures("staff:alice", [signatures[0].pk], reason="spam")
        figures = dashboard.figures(petition)
        assert (figures["total"], figures["by_source"]) == (3, [{"source": "email", "count": 3}])
        do_restore_signatures("staff:alice", [signatures[0].pk])
        assert dashboard.figures(petition)["total"] == 4
        refresh(petition.pk)
        assert dashboard.figures(petition)["total"] == 4

    def test_it_throws_away_a_refresh_that_counted_before_a_change(
        self, petition, monkeypatch: pytest.MonkeyPatch
    ):
        signatures = [sign(petition, n, minutes=n) for n in range(3)]
        refresh(petition.pk, now=START + timedelta(minutes=1))
        refresh_grouped = "groundswell.petitions.tally.refresh.grouped"

        def grouped_then_invalidated(*args, **kwargs):
            found = grouped(*args, **kwargs)
            if not kwargs.get("ids"):  # the refresh's read, then staff act before it writes
                monkeypatch.setattr(refresh_grouped, grouped)
                do_invalidate_signatures("staff:alice", [signatures[2].pk], reason="spam")
            return found

        monkeypatch.setattr(refresh_grouped, grouped_then_invalidated)
        assert refresh(petition.pk) == 0
        assert dashboard.figures(petition)["total"] == 2
        assert refresh(petition.pk) == 2
        assert dashboard.figures(petition)["total"] == 2

    def test_it_counts_a_signature_that_committed_late_at_the_next_refresh(self, petition):
        sign(petition, 1, minutes=1)
        refresh(petition.pk)
        mark = TallyMark.objects.get(petition=petition).counted_before
        # Timed before the mark (its transaction was slow to commit), seen after it.
        late = Signature.objects.create(petition=petition, source="late")
        Signature.objects.filter(pk=late.pk).update(created_at=mark - timedelta(minutes=2))
        refresh(petition.pk)
        assert dashboard.figures(petition)["total"] == 2

    def test_its_task_refreshes_only_petitions_with_something_new(self, petition):
        quiet = make_petition(slug="quiet-one")
        sign(petition, 1, minutes=1)
        assert refresh_tallies.call() == 1
        assert not TallyMark.objects.filter(petition=quiet).exists()
        assert petitions_to_refresh() == []

    def test_its_reads_do_not_grow_with_the_signatures(
        self, petition, django_assert_max_num_queries
    ):
        for n in range(30):
            sign(petition, n, minutes=n * 7, source=f"s{n % 4}")
        refresh(petition.pk, now=START + timedelta(minutes=300))
        sign(petition, 99, minutes=400)
        with django_assert_max_num_queries(10):
            dashboard.figures(petition)


class TestCompaction:
    def test_it_keeps_one_row_per_day_for_old_hours_and_still_follows_changes(self, petition):
        signatures = [
            sign(petition, n, minutes=n * 95, source=f"s{n % 3}", postal_code=f"{n:05}")
            for n in range(150)
        ]
        now = START + timedelta(days=11)
        refresh(petition.pk, now=now)
        old = SignatureTally.objects.filter(dimension="all", hour__lt=horizon(now))
        days = {timezone.localtime(hour).date() for hour in old.values_list("hour", flat=True)}
        assert old.count() == len(days) == 7  # a week of hours, one row per day
        assert dashboard.figures(petition, now=now) == direct(petition, now)
        do_invalidate_signatures("staff:alice", [signatures[3].pk], reason="spam")
        assert dashboard.figures(petition, now=now) == direct(petition, now)
        assert dashboard.figures(petition, now=now)["total"] == 149


class TestAgreesWithGroupingEverything(HypothesisTestCase):
    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        minutes=st.lists(st.integers(0, 60 * 24 * 5), min_size=1, max_size=12),
        refresh_after=st.integers(0, 12),
        invalidate=st.sets(st.integers(0, 11), max_size=3),
    )
    def test_it_matches_for_any_signatures_and_refresh_point(
        self, minutes, refresh_after, invalidate
    ):
        petition = make_petition(slug="any")
        signatures = []
        for n, minute in enumerate(sorted(minutes)):
            if n == refresh_after:
                refresh(petition.pk, now=START + timedelta(minutes=minute))
            signatures.append(sign(petition, n, minutes=minute, source=f"s{minute % 3}"))
        picked = [s.pk for i, s in enumerate(signatures) if i in invalidate]
        do_invalidate_signatures("test", picked, reason="test")
        now = START + timedelta(days=6)
        assert dashboard.figures(petition, now=now) == direct(petition, now)
        refresh(petition.pk)
        assert dashboard.figures(petition, now=timezone.now()) == direct(petition, timezone.now())
