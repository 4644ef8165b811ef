"""The rate limits with several machines' writers on one PostgreSQL: a batch counting
a network or domain waits for another batch counting the same one to commit, so two
writers cannot both let in a limit's worth of the same flood."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from groundswell.petitions.defences import count_recent
from groundswell.petitions.models import Petition, Signature
from tests.cast import make_petition

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="SQLite has one writer at a time already"
    ),
    pytest.mark.django_db(transaction=True),
]

FLOOD = "203.0.113.7"


def counted(petition: Petition, network: str) -> int:
    now = timezone.now()
    hour = timedelta(hours=1)
    batch = count_recent(
        {(petition.pk, "network"): {network}}, {(petition.pk, "network"): {hour}}, now=now
    )
    return batch.counts.get((petition.pk, "network", network), {}).get(hour, 0)


class OtherMachine:
    """A writer on another machine: its own connection, its own transaction, which
    counts a network, writes one signature from it and commits when told."""

    def __init__(self, petition: Petition, network: str) -> None:
        self.petition, self.network = petition, network
        self.counted = threading.Event()
        self.commit = threading.Event()
        self.thread = threading.Thread(target=self._run)
        self.thread.start()
        assert self.counted.wait(10)

    def _run(self) -> None:
        try:
            with transaction.atomic():
                counted(self.petition, self.network)
                Signature.objects.create(petition=self.petition, client_network=self.network)
                self.counted.set()
                self.commit.wait(10)
        finally:
            connections.close_all()

    def finish(self) -> None:
        self.commit.set()
        self.thread.join(10)


def count_in_thread(petition: Petition, network: str) -> tuple[threading.Thread, list[int]]:
    seen: list[int] = []

    def run() -> None:
        try:
            with transaction.atomic():
                seen.append(counted(petition, network))
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, seen


def wait_until_a_writer_waits_for_an_advisory_lock(thread: threading.Thread) -> None:
    deadline = time.monotonic() + 10
    while thread.is_alive() and time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND wait_event = 'advisory'"
            )
            if cursor.fetchone()[0]:
                return
        time.sleep(0.01)


class TestLimitsAcrossMachines:
    def test_it_counts_a_network_only_after_another_writers_batch_with_it_commits(self):
        petition = make_petition()
        other = OtherMachine(petition, FLOOD)
        thread, seen = count_in_thread(petition, FLOOD)
        wait_until_a_writer_waits_for_an_advisory_lock(thread)
        assert seen == [], "it counted while the other batch was still open"
        other.finish()
        thread.join(10)
        assert seen == [1]

    def test_it_does_not_wait_for_a_batch_with_other_networks(self):
        petition = make_petition()
        other = OtherMachine(petition, FLOOD)
        try:
            thread, seen = count_in_thread(petition, "198.51.100.9")
            thread.join(10)
            assert seen == [0]
        finally:
            other.finish()
