"""The in-memory buffer: written by its own thread, in batches, keeping what fails."""

from __future__ import annotations

import threading

import pytest
from django.test import Client

from groundswell.members.models import Person
from groundswell.tracking.buffer import WRITE_CHUNK, EventBuffer
from groundswell.tracking.models import Click, Open
from groundswell.tracking.recording import CLICKS, flush_all
from tests.tracking.cast import make_cast
from tests.waiting import wait_until


class TestEventBuffer:
    def test_its_thread_writes_after_the_flush_interval(self, settings):
        settings.TRACKING_BACKGROUND_FLUSHES = True
        settings.TRACKING_FLUSH_SECONDS = 0.1
        written: list[int] = []
        buffer: EventBuffer[int] = EventBuffer("test-timed", written.extend)
        buffer.add(1)
        buffer.add(2)
        wait_until(lambda: written == [1, 2], message="the thread to write both")
        assert buffer.pending() == 0

    def test_with_background_flushes_off_events_wait_for_a_flush(self, settings):
        settings.TRACKING_FLUSH_SECONDS = 0.1
        settings.TRACKING_BATCH_SIZE = 1
        written: list[int] = []
        buffer: EventBuffer[int] = EventBuffer("test-off", written.extend)
        buffer.add(1)
        assert buffer.flush(background=True) == 0
        assert written == [] and buffer.pending() == 1
        assert buffer.flush() == 1
        assert written == [1]

    def test_its_thread_writes_nothing_that_came_after_the_switch_went_off(self, settings):
        # The interleaving that once leaked a click into a later test: the thread woke
        # while flushes were on, and before it took the batch a test's set-up turned
        # them off and the test added an event. Here a foreground flush, held inside
        # its write, keeps the woken background flush waiting meanwhile.
        in_write, release = threading.Event(), threading.Event()
        written: list[int] = []

        def write(batch: list[int]) -> None:
            in_write.set()
            release.wait(10)
            written.extend(batch)

        buffer: EventBuffer[int] = EventBuffer("test-switch", write)
        buffer.add(1)
        holder = threading.Thread(target=buffer.flush)
        holder.start()
        assert in_write.wait(10)
        settings.TRACKING_BACKGROUND_FLUSHES = True
        background: list[int] = []
        woken = threading.Event()

        def background_flush() -> None:
            woken.set()
            background.append(buffer.flush(background=True))

        flusher = threading.Thread(target=background_flush)
        flusher.start()
        assert woken.wait(10)
        settings.TRACKING_BACKGROUND_FLUSHES = False
        buffer.add(7)
        release.set()
        holder.join(10)
        flusher.join(10)

        assert background == [0]
        assert written == [1]
        assert buffer.pending() == 1

    def test_a_full_batch_wakes_the_thread_at_once(self, settings):
        settings.TRACKING_BACKGROUND_FLUSHES = True
        settings.TRACKING_BATCH_SIZE = 3
        written: list[int] = []
        buffer: EventBuffer[int] = EventBuffer("test-batch", written.extend)
        for n in range(3):
            buffer.add(n)
        wait_until(lambda: written == [0, 1, 2], timeout=5, message="the batch")

    def test_it_keeps_a_batch_the_database_refused_for_the_next_try(self):
        attempts: list[list[int]] = []

        def write(batch: list[int]) -> None:
            attempts.append(list(batch))
            if len(attempts) == 1:
                raise RuntimeError("database is down")

        buffer: EventBuffer[int] = EventBuffer("test-retry", write)
        buffer.add(1)
        assert buffer.flush() == 0
        buffer.add(2)
        assert buffer.flush() == 2
        assert attempts == [[1], [1, 2]]

    def test_it_keeps_for_the_next_try_only_what_a_failed_flush_did_not_write(self):
        # Chunks are committed one by one: when the second is refused (the database
        # busy), the first is written already and must not be written again.
        committed: list[int] = []
        refusals = [True]

        def write(chunk: list[int]) -> None:
            if committed and refusals:
                refusals.pop()
                raise RuntimeError("database is locked")
            committed.extend(chunk)

        buffer: EventBuffer[int] = EventBuffer("test-chunks", write)
        for event in range(WRITE_CHUNK + 10):
            buffer.add(event)
        assert buffer.flush() == WRITE_CHUNK
        assert buffer.pending() == 10
        assert buffer.flush() == 10
        assert committed == list(range(WRITE_CHUNK + 10))

    def test_it_drops_the_oldest_past_its_limit_and_says_so(self, settings):
        settings.TRACKING_MAX_PENDING = 3
        buffer: EventBuffer[int] = EventBuffer("test-limit", lambda batch: None)
        for n in range(5):
            buffer.add(n)
        assert buffer.pending() == 3
        assert buffer.dropped == 2

    def test_adding_from_many_threads_loses_nothing(self):
        written: list[int] = []
        buffer: EventBuffer[int] = EventBuffer("test-threads", written.extend)

        def add_many(start: int) -> None:
            for n in range(start, start + 1000):
                buffer.add(n)

        threads = [threading.Thread(target=add_many, args=(k * 1000,)) for k in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        buffer.flush()
        assert sorted(written) == list(range(8000))


@pytest.mark.django_db(transaction=True)
class TestClicksReachTheDatabase:
    def test_the_background_thread_writes_clicks_without_anyone_flushing(self, settings):
        settings.TRACKING_BACKGROUND_FLUSHES = True
        settings.TRACKING_BATCH_SIZE = 2
        cast = make_cast()
        client = Client()
        for number in (1, 2):
            assert client.get(f"/go/{cast.mailing.pk}/{number}/").status_code == 302
        wait_until(lambda: Click.objects.count() == 2, message="two clicks in the database")

    def test_a_click_by_someone_erased_before_the_flush_is_kept_without_them(self):
        cast = make_cast()
        client = Client()
        client.get(f"/go/{cast.mailing.pk}/2/?akid={cast.token(cast.dora)}")
        client.get(f"/go/{cast.mailing.pk}/2/?akid={cast.token(cast.bob)}")
        client.get(f"/o/{cast.mailing.pk}/{cast.token(cast.dora)}.gif")
        Person.objects.filter(pk=cast.dora.pk).delete()
        flush_all()
        assert sorted(Click.objects.values_list("person_id", flat=True), key=str) == sorted(
            [None, cast.bob.pk], key=str
        )
        assert Open.objects.get().person_id is None
        assert CLICKS.pending() == 0
