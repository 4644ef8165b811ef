"""Freezing the recipients when a send starts: a batch per commit, resumable after a crash.

While it runs the mailing is *preparing*: staff see it, nothing can be claimed, and a
cancel stops it. If the process dies in the middle, the watchdog carries on from where it
stopped, and nobody is frozen twice.
"""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from groundswell.mailings import claims, recovery, targeting
from groundswell.mailings.actions import send
from groundswell.mailings.actions.send import do_cancel_send, do_start_send
from groundswell.mailings.models import (
    Mailing,
    MailingRecipient,
    MailingStatus,
    RecipientState,
    SendWorker,
)
from groundswell.mailings.tasks import check_mailings
from groundswell.orgs.models import MailingList, Organisation
from tests.cast import default_list, make_mailing, make_org, make_people, subscribe_all
from tests.mailings.processes import GROUNDSWELL, groundswell_env
from tests.waiting import wait_until

PEOPLE = 10


class Interrupted(Exception):
    pass


def recipients(mailing: Mailing) -> int:
    return MailingRecipient.objects.filter(mailing=mailing).count()


def nobody_twice(mailing: Mailing) -> bool:
    return not (
        MailingRecipient.objects.filter(mailing=mailing)
        .values("person_id")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .exists()
    )


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(send, "FREEZE_BATCH", 3)


def between_batches(monkeypatch: pytest.MonkeyPatch, then: Any) -> None:
    """Run `then(number of batches so far)` before each batch after the first."""
    original = targeting.iter_target_batches

    def watched(mailing: Mailing, batch_size: int = 2000) -> Iterator[list[Any]]:
        for number, batch in enumerate(original(mailing, batch_size)):
            if number:
                then(number)
            yield batch

    monkeypatch.setattr(targeting, "iter_target_batches", watched)


@pytest.mark.usefixtures("small_batches", "mail_in_memory")
class TestFreezeInBatches:
    @pytest.mark.django_db(transaction=True)
    def test_each_batch_is_committed_while_the_mailing_is_preparing_and_not_claimable(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        org = make_org()
        supporters = default_list(org)
        subscribe_all(make_people(PEOPLE), supporters)
        mailing = make_mailing(org, supporters)
        seen: list[tuple[bool, str, int, list[int]]] = []

        def look(number: int) -> None:
            status = Mailing.objects.get(pk=mailing.pk).status
            claimed = claims.claim_batch(mailing.pk, "eager-worker")
            seen.append((connection.in_atomic_block, status, recipients(mailing), claimed))

        between_batches(monkeypatch, look)
        mailing = do_start_send(mailing)

        # Between batches: no transaction open, the mailing preparing, the batches so far
        # committed, and none of them claimable.
        assert seen == [
            (False, MailingStatus.PREPARING, 3, []),
            (False, MailingStatus.PREPARING, 6, []),
            (False, MailingStatus.PREPARING, 9, []),
        ]
        assert mailing.status == MailingStatus.SENDING
        assert mailing.recipient_count == PEOPLE == recipients(mailing)
        assert not SendWorker.objects.exists()  # the preparer's row is gone

    def test_a_freeze_cut_short_is_carried_on_by_the_watchdog_and_nobody_twice(
        self, org: Organisation, supporters: MailingList, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        subscribe_all(make_people(PEOPLE), supporters)
        mailing = make_mailing(org, supporters)

        def crash(number: int) -> None:
            if number == 2:
                raise Interrupted

        between_batches(monkeypatch, crash)
        with pytest.raises(Interrupted):
            do_start_send(mailing)
        mailing.refresh_from_db()
        assert (mailing.status, recipients(mailing)) == (MailingStatus.PREPARING, 6)
        assert claims.claim_batch(mailing.pk, "eager-worker") == []

        monkeypatch.undo()
        monkeypatch.setattr(send, "FREEZE_BATCH", 3)
        result = check_mailings()

        mailing.refresh_from_db()
        assert result["started"] == 1
        assert mailing.recipient_count == PEOPLE == recipients(mailing)
        assert nobody_twice(mailing)
        # The same check then gave it lanes (run here by the immediate task backend).
        assert mailing.status == MailingStatus.SENT
        assert sorted(m.to[0] for m in mail.outbox) == sorted(
            MailingRecipient.objects.filter(mailing=mailing).values_list("email", flat=True)
        )

    def test_a_freeze_with_a_live_preparer_is_left_to_it(
        self, org: Organisation, supporters: MailingList
    ) -> None:
        subscribe_all(make_people(PEOPLE), supporters)
        mailing = make_mailing(org, supporters, status=MailingStatus.PREPARING)
        recovery.register_worker(mailing.pk)  # this very process, busy freezing

        assert send.do_finish_preparing(mailing.pk) is None
        check_mailings()

        assert Mailing.objects.get(pk=mailing.pk).status == MailingStatus.PREPARING
        assert recipients(mailing) == 0

    def test_a_freeze_whose_preparer_died_is_carried_on(
        self, org: Organisation, supporters: MailingList
    ) -> None:
        subscribe_all(make_people(PEOPLE), supporters)
        mailing = make_mailing(org, supporters, status=MailingStatus.PREPARING)
        worker_id = recovery.register_worker(mailing.pk)
        SendWorker.objects.filter(worker_id=worker_id).update(
            heartbeat_at=timezone.now() - recovery.STALE_AFTER * 2
        )

        check_mailings()

        mailing.refresh_from_db()
        assert (mailing.status, mailing.recipient_count) == (MailingStatus.SENT, PEOPLE)
        assert len(mail.outbox) == PEOPLE

    def test_cancelling_stops_the_freeze_and_cancels_what_was_frozen(
        self, org: Organisation, supporters: MailingList, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        subscribe_all(make_people(PEOPLE), supporters)
        mailing = make_mailing(org, supporters)

        def cancel(number: int) -> None:
            if number == 1:
                do_cancel_send(Mailing.objects.get(pk=mailing.pk))

        between_batches(monkeypatch, cancel)
        mailing = do_start_send(mailing)

        assert mailing.status == MailingStatus.CANCELLED
        states = set(
            MailingRecipient.objects.filter(mailing=mailing).values_list("state", flat=True)
        )
        assert (recipients(mailing), states) == (3, {RecipientState.CANCELLED})
        assert not SendWorker.objects.exists()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_send_command_killed_mid_freeze_is_finished_by_a_worker_once_each(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    people = 20_000
    org = make_org()
    supporters = default_list(org)
    subscribe_all(make_people(people), supporters)
    mailing = make_mailing(org, supporters)
    env = groundswell_env(1)  # nothing is sent: the mailing is paused once it is frozen
    env["EMAIL_URL"] = "memory://"

    command = subprocess.Popen(
        [GROUNDSWELL, "mailing", "send", str(mailing.pk)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: recipients(mailing) > 0, 60, "the first batch")
        command.send_signal(signal.SIGKILL)
    finally:
        command.kill()
        command.wait(timeout=10)
    mailing.refresh_from_db()
    at_kill = recipients(mailing)
    print(f"at the kill: {mailing.status}, {at_kill} frozen")
    assert mailing.status == MailingStatus.PREPARING
    assert 0 < at_kill < people

    # The watchdog's part (check_mailings, without the lanes it then starts): the dead
    # command's pid says it is gone, and the freeze is carried on.
    monkeypatch.setattr(send, "after_start", lambda mailing_id: None)
    recovery.recover_dead_workers()
    assert send.do_finish_preparing(mailing.pk) is not None

    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.SENDING
    assert mailing.recipient_count == people == recipients(mailing)
    assert nobody_twice(mailing)
