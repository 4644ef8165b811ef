from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from groundswell.petitions.actions.signing import SignatureDetails, do_sign_petition
from groundswell.petitions.counter import (
    clear_process_cache,
    next_goal,
    petition_count,
    refresh_petition_count,
)
from groundswell.petitions.models import Petition, PetitionCount, Signature


def sign(petition: Petition, n: int) -> None:
    for i in range(n):
        do_sign_petition(
            petition, SignatureDetails(email=f"s{i}@example.org", first_name="S", last_name="T")
        )


def make_stale(petition: Petition) -> None:
    PetitionCount.objects.filter(pk=petition.pk).update(
        updated_at=timezone.now() - timedelta(minutes=5)
    )
    clear_process_cache()


@pytest.mark.django_db
class TestPetitionCount:
    def test_it_counts_valid_signatures_only(self, petition: Petition, exact_counts: None) -> None:
        sign(petition, 3)
        Signature.objects.filter(person__email="s0@example.org").update(status="invalidated")

        assert petition_count(petition).count == 2

    def test_it_keeps_a_fresh_count_for_a_few_seconds(
        self, petition: Petition, settings: Any
    ) -> None:
        settings.COUNT_REFRESH_SECONDS = 60
        assert petition_count(petition).count == 0
        sign(petition, 2)

        clear_process_cache()
        assert petition_count(petition).count == 0  # the row is still fresh

        make_stale(petition)
        assert petition_count(petition).count == 2

    def test_it_serves_a_process_its_own_copy_between_refreshes(
        self, petition: Petition, settings: Any
    ) -> None:
        settings.COUNT_REFRESH_SECONDS = 0
        settings.COUNT_CACHE_SECONDS = 60
        assert petition_count(petition).count == 0
        sign(petition, 1)

        assert petition_count(petition).count == 0
        clear_process_cache()
        assert petition_count(petition).count == 1

    def test_it_never_goes_backwards_when_readers_race(self, petition: Petition) -> None:
        sign(petition, 2)
        # A reader that counted later already stored a higher number.
        PetitionCount.objects.create(
            petition=petition, count=5, updated_at=timezone.now() - timedelta(minutes=5)
        )

        refresh_petition_count(petition)

        assert PetitionCount.objects.get().count == 5

    def test_it_goes_down_only_when_asked_after_invalidation(self, petition: Petition) -> None:
        sign(petition, 2)
        PetitionCount.objects.create(petition=petition, count=5, updated_at=timezone.now())

        refresh_petition_count(petition, allow_decrease=True)

        assert PetitionCount.objects.get().count == 2

    def test_it_refreshes_a_stale_row_only_once(self, petition: Petition) -> None:
        sign(petition, 1)
        refresh_petition_count(petition)
        first = PetitionCount.objects.get()
        sign_more = SignatureDetails(email="late@example.org", first_name="L", last_name="T")
        do_sign_petition(petition, sign_more)

        refresh_petition_count(petition)  # still fresh: nothing to do

        again = PetitionCount.objects.get()
        assert (again.count, again.updated_at) == (1, first.updated_at)

    def test_it_raises_the_goal_once_reached(self, petition: Petition, exact_counts: None) -> None:
        petition.goal = 3
        petition.save()
        sign(petition, 3)

        snapshot = petition_count(petition)

        assert snapshot.goal == 10
        assert snapshot.percent == 30
        petition.refresh_from_db()
        assert petition.goal == 10

    def test_it_keeps_the_goal_when_auto_raise_is_off(
        self, petition: Petition, exact_counts: None
    ) -> None:
        petition.goal = 2
        petition.auto_raise_goal = False
        petition.save()
        sign(petition, 3)

        snapshot = petition_count(petition)

        assert (snapshot.goal, snapshot.percent) == (2, 100)


@pytest.mark.parametrize(
    ("count", "goal"),
    [(0, 10), (9, 10), (10, 25), (999, 1000), (1000, 2500), (2500, 5000), (5000, 10000)],
)
def test_it_picks_the_next_round_goal(count: int, goal: int) -> None:
    assert next_goal(count) == goal
