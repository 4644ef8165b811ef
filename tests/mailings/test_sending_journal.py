"""Recovering a dead worker's window from its journal (recovery.py, journal.py).

A worker marks a window of recipients *sending* in one commit and records the server's
answers later, in bulk. If it dies in between, the journal it wrote line by line says
what became of each: answered, started without an answer, never started. These tests
write such journals as a worker would, on a real database and real files, then let
recovery replay them.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from groundswell.mailings import claims, journal, lanes, recovery, smtp
from groundswell.mailings.actions.send import do_start_send
from groundswell.mailings.models import Mailing, MailingRecipient, RecipientState, SendWorker
from groundswell.orgs.models import MailingList, Organisation
from tests.cast import make_mailing, make_people, subscribe_all


@pytest.fixture(autouse=True)
def data_dir(settings: Any, tmp_path: Path) -> Path:
    """Each test has its own journals."""
    settings.DATA_DIR = tmp_path
    return tmp_path


@pytest.fixture
def sending_mailing(org: Organisation, supporters: MailingList, mail_in_memory: None) -> Mailing:
    """Eight supporters frozen as recipients; no lane runs (on_commit is not run)."""
    subscribe_all(make_people(8), supporters)
    return do_start_send(make_mailing(org, supporters))


def register(worker_id: str, *, hostname: str = recovery._HOSTNAME, **fields: Any) -> SendWorker:
    now = timezone.now()
    values: dict[str, Any] = {"started_at": now, "heartbeat_at": now, "pid": 1, **fields}
    return SendWorker.objects.create(worker_id=worker_id, hostname=hostname, **values)


def take_window(mailing: Mailing, worker_id: str, marked: int) -> list[int]:
    """Claim every recipient for the worker and mark the first `marked` *sending*."""
    ids = claims.claim_batch(mailing.pk, worker_id)
    assert claims.mark_window(ids[:marked], worker_id) == set(ids[:marked])
    return ids


def rows(ids: list[int]) -> list[MailingRecipient]:
    found = {r.pk: r for r in MailingRecipient.objects.filter(pk__in=ids)}
    return [found[pk] for pk in ids]


def states(mailing: Mailing) -> Counter[str]:
    return Counter(MailingRecipient.objects.filter(mailing=mailing).values_list("state", flat=True))


ANSWERED_AT = 1_795_000_000.25


class TestReplay:
    def test_it_records_answers_marks_the_one_in_flight_unknown_and_requeues_the_rest(
        self, sending_mailing: Mailing, data_dir: Path
    ) -> None:
        worker_id = recovery.new_worker_id()
        # Registered, fresh heartbeat, and its pid is this live process: only the
        # journal's free lock says it is gone.
        register(worker_id, pid=os.getpid(), mailing=sending_mailing)
        ids = take_window(sending_mailing, worker_id, marked=6)
        kept = journal.Journal(worker_id)
        kept.started(ids[0])
        kept.answered(
            ids[0], "sent", "250 2.0.0 queued as A1", "<one@riverbank.example>", ANSWERED_AT
        )
        kept.started(ids[1])
        kept.answered(
            ids[1], "failed", "550 5.1.1 No such mailbox", "<two@riverbank.example>", ANSWERED_AT
        )
        kept.started(ids[2])
        kept.answered(
            ids[2], "retry", "451 4.3.0 Try again later", "<three@riverbank.example>", ANSWERED_AT
        )
        kept.started(ids[3])  # the kill came while the server had it
        os.write(kept.fd, b"S %d" % ids[4])  # cut off mid-line: never acted on
        kept.close()  # the process is gone: the kernel let go of the lock

        assert recovery.recover_dead_workers() == (2 + 2, 1)

        sent, failed, retry, in_flight, torn, never, claimed_1, claimed_2 = rows(ids)
        assert sent.state == RecipientState.SENT
        assert sent.smtp_response == "250 2.0.0 queued as A1"
        assert sent.message_id == "<one@riverbank.example>"
        assert sent.sent_at is not None and sent.sent_at.timestamp() == ANSWERED_AT
        assert sent.attempts == 1
        assert (failed.state, failed.smtp_response) == (
            RecipientState.FAILED,
            "550 5.1.1 No such mailbox",
        )
        assert retry.state == RecipientState.QUEUED and retry.attempts == 1
        assert retry.next_attempt_at is not None
        assert retry.next_attempt_at.timestamp() == ANSWERED_AT + claims.RETRY.delays[0]
        assert in_flight.state == RecipientState.UNKNOWN
        assert in_flight.smtp_response == recovery.UNKNOWN_IN_FLIGHT
        for never_started in (torn, never, claimed_1, claimed_2):
            assert never_started.state == RecipientState.QUEUED
            assert (never_started.claimed_by, never_started.attempts) == ("", 0)
        assert not SendWorker.objects.filter(worker_id=worker_id).exists()
        assert list((data_dir / "send-journal").iterdir()) == []

    def test_a_journal_whose_lane_holds_its_lock_is_alive_whatever_its_heartbeat(
        self, sending_mailing: Mailing, data_dir: Path
    ) -> None:
        worker_id = recovery.new_worker_id()
        long_ago = timezone.now() - timedelta(minutes=10)
        register(worker_id, heartbeat_at=long_ago, pid=999_999_999)
        take_window(sending_mailing, worker_id, marked=3)
        held = journal.Journal(worker_id)
        try:
            assert recovery.recover_dead_workers() == (0, 0)
            assert states(sending_mailing) == {RecipientState.SENDING: 3, RecipientState.CLAIMED: 5}
            assert SendWorker.objects.filter(worker_id=worker_id).exists()
        finally:
            held.close()
        # Its process gone, the same journal is replayed: nothing started, all back.
        assert recovery.recover_dead_workers() == (8, 0)
        assert states(sending_mailing) == {RecipientState.QUEUED: 8}

    def test_without_a_journal_the_window_of_a_dead_worker_becomes_unknown(
        self, sending_mailing: Mailing
    ) -> None:
        worker_id = recovery.new_worker_id()
        register(worker_id, heartbeat_at=timezone.now() - timedelta(minutes=10))
        take_window(sending_mailing, worker_id, marked=3)

        assert recovery.recover_dead_workers() == (5, 3)

        assert states(sending_mailing) == {RecipientState.UNKNOWN: 3, RecipientState.QUEUED: 5}
        reasons = MailingRecipient.objects.filter(state=RecipientState.UNKNOWN).values_list(
            "smtp_response", flat=True
        )
        assert set(reasons) == {recovery.UNKNOWN_NO_JOURNAL}

    def test_a_worker_on_another_host_is_left_alone_until_its_heartbeat_is_stale(
        self, sending_mailing: Mailing
    ) -> None:
        worker_id = "elsewhere:4242:0123456789ab"
        worker = register(worker_id, hostname="elsewhere")
        take_window(sending_mailing, worker_id, marked=2)

        assert recovery.recover_dead_workers() == (0, 0)

        worker.heartbeat_at = timezone.now() - recovery.STALE_AFTER - timedelta(seconds=1)
        worker.save()
        assert recovery.recover_dead_workers() == (6, 2)
        assert states(sending_mailing) == {RecipientState.UNKNOWN: 2, RecipientState.QUEUED: 6}

    def test_a_journal_from_before_a_reboot_is_not_trusted(
        self, sending_mailing: Mailing, data_dir: Path
    ) -> None:
        worker_id = recovery.new_worker_id()
        ids = take_window(sending_mailing, worker_id, marked=2)
        path = journal.path_for(worker_id)
        path.parent.mkdir(parents=True)
        # Not started, by this journal; but the machine may have lost its last lines.
        path.write_text(f"{journal.FORMAT}\tsome-earlier-boot\t{worker_id}\nS {ids[0]}\n")

        assert recovery.recover_dead_workers() == (6, 2)

        assert states(sending_mailing) == {RecipientState.UNKNOWN: 2, RecipientState.QUEUED: 6}
        assert not path.exists()

    def test_a_journal_left_by_a_worker_without_a_row_is_replayed_and_removed(
        self, sending_mailing: Mailing, data_dir: Path
    ) -> None:
        worker_id = recovery.new_worker_id()  # no SendWorker row: it was never written
        ids = take_window(sending_mailing, worker_id, marked=2)
        kept = journal.Journal(worker_id)
        kept.started(ids[0])
        kept.answered(ids[0], "sent", "250 OK", "<one@riverbank.example>", ANSWERED_AT)
        kept.close()

        assert recovery.recover_dead_workers() == (7, 0)

        assert states(sending_mailing) == {RecipientState.SENT: 1, RecipientState.QUEUED: 7}
        assert list((data_dir / "send-journal").iterdir()) == []

    def test_a_late_answer_of_a_live_worker_corrects_what_recovery_gave_up_on(
        self, sending_mailing: Mailing
    ) -> None:
        worker_id = "elsewhere:4242:0123456789ab"
        register(worker_id, hostname="elsewhere", heartbeat_at=timezone.now() - timedelta(hours=1))
        ids = take_window(sending_mailing, worker_id, marked=2)
        recovery.recover_dead_workers()
        assert rows(ids[:1])[0].state == RecipientState.UNKNOWN

        # It was only slow: it records the server's answer, and hands back the other.
        late = claims.Result(ids[0], 0, smtp.Outcome("sent", "250 OK"), "<late@example>")
        claims.write_results([late], worker_id)
        claims.give_back([ids[1]], worker_id)

        assert [r.state for r in rows(ids[:2])] == [RecipientState.SENT, RecipientState.QUEUED]


class TestJournalFile:
    def test_it_is_removed_when_the_lane_ends_and_holds_what_the_lane_did_meanwhile(
        self, sending_mailing: Mailing, data_dir: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        seen: list[journal.Replay | None] = []

        class Peeking(smtp.DjangoBackendTransport):
            def send(
                self, sender: str, recipient: str, message: bytes, next_recipient: str | None = None
            ) -> smtp.Outcome:
                (path,) = (data_dir / "send-journal").glob("*.journal")
                seen.append(journal.parse(path.read_bytes()))
                return super().send(sender, recipient, message, next_recipient)

        report = lanes.SendLane(sending_mailing.pk, transport=Peeking()).run()

        assert report.sent == 8
        assert list((data_dir / "send-journal").iterdir()) == []
        # At each hand-over: this message started, every earlier one answered.
        for number, replay in enumerate(seen):
            assert replay is not None
            assert len(replay.started) == number + 1
            assert len(replay.answers) == number
            assert (replay.started - set(replay.answers)) == {max(replay.started)}

    def test_it_starts_again_from_its_header_once_big_and_recorded(
        self, data_dir: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(journal, "CHECKPOINT_BYTES", 100)
        kept = journal.Journal("host:1:abc")
        for pk in range(1, 20):
            kept.started(pk)
        kept.checkpoint()
        kept.started(99)
        replay = journal.parse(kept.path.read_bytes())
        assert replay is not None and replay.started == {99}
        kept.remove()
        assert not kept.path.exists()

    def test_half_created_journals_are_swept_once_old(self, data_dir: Path) -> None:
        directory = data_dir / "send-journal"
        directory.mkdir()
        fresh = directory / "host%3A1%3Aabc.new"
        old = directory / "host%3A2%3Adef.new"
        fresh.write_text("")
        old.write_text("")
        an_hour_ago = time.time() - 3600
        os.utime(old, (an_hour_ago, an_hour_ago))

        assert list(journal.leftovers()) == []

        assert sorted(p.name for p in directory.iterdir()) == [fresh.name]
