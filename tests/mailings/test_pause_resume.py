"""Pause, resume and cancel a send while a real worker is sending: no one gets it twice."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction

from groundswell.mailings import claims, lanes
from groundswell.mailings.actions.send import (
    SendError,
    do_pause_send,
    do_resume_send,
    do_start_send,
)
from groundswell.mailings.models import Mailing, MailingRecipient, MailingStatus, RecipientState
from groundswell.orgs.models import MailingList, Organisation
from tests.cast import default_list, make_mailing, make_org, make_people, subscribe_all
from tests.mailings.processes import (
    groundswell_env,
    run_groundswell,
    sink_process,
    start_worker,
)
from tests.waiting import wait_until


def states(mailing: Mailing) -> Counter[str]:
    return Counter(MailingRecipient.objects.filter(mailing=mailing).values_list("state", flat=True))


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_pausing_and_resuming_a_running_send_sends_everyone_exactly_once(tmp_path: Path) -> None:
    org = make_org()
    supporters = default_list(org)
    subscribe_all(make_people(1500), supporters)
    # Slowed down, so the send is still going when the pause command has started up.
    mailing = make_mailing(org, supporters, rate_limit=200)

    with sink_process(tmp_path) as sink:
        env = groundswell_env(sink.port)
        run_groundswell(env, "mailing", "send", str(mailing.pk))
        worker = start_worker(env)
        try:
            wait_until(lambda: states(mailing)[RecipientState.SENT] >= 300, 60, "sends")
            assert "paused" in run_groundswell(env, "mailing", "pause", str(mailing.pk))
            wait_until(
                lambda: states(mailing)[RecipientState.SENDING] == 0, 10, "the message in flight"
            )
            paused_at = states(mailing)
            # The thing under test is that nothing happens: give the lane time to misbehave.
            time.sleep(1.5)
            assert states(mailing) == paused_at  # nothing moves while paused
            assert paused_at[RecipientState.CLAIMED] == 0

            assert "resumed" in run_groundswell(env, "mailing", "resume", str(mailing.pk))
            wait_until(
                lambda: Mailing.objects.get(pk=mailing.pk).status == MailingStatus.SENT,
                90,
                "the end of the send",
            )
        finally:
            worker.kill()
            worker.wait(timeout=10)
        received = sink.counts()

    assert states(mailing) == {RecipientState.SENT: 1500}
    assert len(received) == 1500
    assert set(received.values()) == {1}


class TestPauseInProcess:
    def test_pause_gives_back_claimed_recipients_and_a_lane_stops(
        self, org: Organisation, supporters: MailingList, settings: Any
    ) -> None:
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        subscribe_all(make_people(20), supporters)
        mailing = do_start_send(make_mailing(org, supporters))
        claimed = claims.claim_batch(mailing.pk, "worker-1", size=5)

        do_pause_send(mailing)

        assert states(mailing) == {RecipientState.QUEUED: 20}
        # The worker that held them can no longer start any of them.
        with transaction.atomic():
            assert claims.mark_window([claimed[0]], "worker-1") == set()
        report = lanes.SendLane(mailing.pk).run()
        assert report.sent == 0 and report.stopped_because == "mailing paused"

    def test_resume_and_pause_refuse_the_wrong_state(
        self, org: Organisation, supporters: MailingList, settings: Any
    ) -> None:
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        subscribe_all(make_people(2), supporters)
        mailing = make_mailing(org, supporters)
        with pytest.raises(SendError):
            do_pause_send(mailing)
        with pytest.raises(SendError):
            do_resume_send(mailing)
