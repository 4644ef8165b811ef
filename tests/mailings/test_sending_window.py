"""Pause, resume, cancel and the rate limit while a lane works through a window.

A lane marks up to lanes.WINDOW claimed recipients *sending* in one commit, then hands
them to a real SMTP server on localhost one by one. Staff act in between: these tests
do so from inside the lane, right after a given message was handed over.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from itertools import pairwise
from types import SimpleNamespace

import pytest
from django.utils import timezone

from groundswell.mailings import claims, lanes, smtp
from groundswell.mailings.actions.send import (
    do_cancel_send,
    do_pause_send,
    do_resume_send,
    do_start_send,
)
from groundswell.mailings.models import (
    Mailing,
    MailingRecipient,
    MailingStatus,
    RecipientState,
    SendWorker,
)
from groundswell.orgs.models import MailingList, Organisation
from tests.cast import make_mailing, make_people, subscribe_all
from tests.conftest import SmtpSink

RECIPIENTS = 120


class Interrupting(smtp.SmtpTransport):
    """The real SMTP transport, and after the n-th message something staff do."""

    def __init__(self, after: int, then: Callable[[], None]) -> None:
        super().__init__()
        self.after = after
        self.then = then
        self.handed_over: list[str] = []

    def send(
        self, sender: str, recipient: str, message: bytes, next_recipient: str | None = None
    ) -> smtp.Outcome:
        outcome = super().send(sender, recipient, message, next_recipient)
        self.handed_over.append(recipient)
        if len(self.handed_over) == self.after:
            self.then()
        return outcome


def delivered(sink: SmtpSink) -> Counter[str]:
    with sink.handler.lock:
        return Counter(rcpt for env in sink.handler.envelopes for rcpt in env.rcpt_tos)


def states(mailing: Mailing) -> Counter[str]:
    return Counter(MailingRecipient.objects.filter(mailing=mailing).values_list("state", flat=True))


@pytest.fixture
def started(org: Organisation, supporters: MailingList, smtp_sink: SmtpSink) -> Mailing:
    """Sending to 120 supporters; no lane has run yet (on_commit is not run)."""
    subscribe_all(make_people(RECIPIENTS), supporters)
    return do_start_send(make_mailing(org, supporters))


@pytest.fixture
def watchful(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lanes read the mailing's status before every message, not every half second."""
    monkeypatch.setattr(lanes, "STATUS_EVERY", 0)


class TestPauseDuringAWindow:
    @pytest.mark.usefixtures("watchful")
    def test_it_stops_after_the_message_in_hand_and_gives_the_rest_back(
        self, started: Mailing, smtp_sink: SmtpSink
    ) -> None:
        transport = Interrupting(10, lambda: do_pause_send(started))

        report = lanes.SendLane(started.pk, transport=transport).run()

        assert report.stopped_because == "mailing paused"
        assert states(started) == {RecipientState.SENT: 10, RecipientState.QUEUED: 110}
        assert not MailingRecipient.objects.exclude(claimed_by="").filter(
            state=RecipientState.QUEUED
        )
        assert sum(delivered(smtp_sink).values()) == 10

    @pytest.mark.usefixtures("watchful")
    def test_resuming_sends_everyone_else_once(self, started: Mailing, smtp_sink: SmtpSink) -> None:
        lanes.SendLane(started.pk, transport=Interrupting(30, lambda: do_pause_send(started))).run()
        do_resume_send(started)  # on_commit not run: we play the lane ourselves

        report = lanes.SendLane(started.pk).run()

        assert report.sent == RECIPIENTS - 30
        assert states(started) == {RecipientState.SENT: RECIPIENTS}
        counts = delivered(smtp_sink)
        assert len(counts) == RECIPIENTS and set(counts.values()) == {1}

    def test_a_recipient_taken_back_before_its_window_is_marked_is_not_sent_by_that_lane(
        self, started: Mailing, smtp_sink: SmtpSink
    ) -> None:
        """Pause gives back the claimed second half of the lane's batch; another worker
        claims them after the resume. The lane's mark of that window must miss them."""
        taken: list[int] = []

        def pause_resume_and_let_another_worker_claim() -> None:
            do_pause_send(started)
            do_resume_send(started)
            taken.extend(claims.claim_batch(started.pk, "other-worker", size=lanes.WINDOW))

        transport = Interrupting(lanes.WINDOW, pause_resume_and_let_another_worker_claim)
        lanes.SendLane(started.pk, transport=transport).run()

        assert len(taken) == lanes.WINDOW
        taken_emails = set(
            MailingRecipient.objects.filter(pk__in=taken).values_list("email", flat=True)
        )
        assert taken_emails.isdisjoint(transport.handed_over)
        assert set(
            MailingRecipient.objects.filter(pk__in=taken).values_list("state", "claimed_by")
        ) == {(RecipientState.CLAIMED, "other-worker")}
        assert states(started) == {
            RecipientState.SENT: RECIPIENTS - lanes.WINDOW,
            RecipientState.CLAIMED: lanes.WINDOW,
        }
        assert set(delivered(smtp_sink).values()) == {1}


class TestCancelDuringAWindow:
    @pytest.mark.usefixtures("watchful")
    def test_nothing_more_goes_and_the_rest_of_the_window_is_cancelled(
        self, started: Mailing, smtp_sink: SmtpSink
    ) -> None:
        report = lanes.SendLane(
            started.pk, transport=Interrupting(10, lambda: do_cancel_send(started))
        ).run()

        assert report.stopped_because == "mailing cancelled"
        assert states(started) == {RecipientState.SENT: 10, RecipientState.CANCELLED: 110}
        assert sum(delivered(smtp_sink).values()) == 10
        started.refresh_from_db()
        assert started.status == MailingStatus.CANCELLED


class TestRateLimit:
    def test_each_lane_spaces_its_messages_by_its_share_of_the_limit(
        self,
        org: Organisation,
        supporters: MailingList,
        mail_in_memory: None,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """A clock that only moves when the lane sleeps: the waits are the limit's doing."""
        clock = [1000.0]
        handed_over_at: list[float] = []

        def sleep(seconds: float) -> None:
            clock[0] += seconds

        # Only the send loop's own view of time: patching the time module itself would
        # also move this clock whenever another thread (the click flusher) sleeps.
        monkeypatch.setattr(lanes, "time", SimpleNamespace(monotonic=lambda: clock[0], sleep=sleep))
        subscribe_all(make_people(21), supporters)
        mailing = do_start_send(make_mailing(org, supporters, rate_limit=10))
        # Another lane of this mailing is alive: this one takes half the limit.
        SendWorker.objects.create(
            worker_id="other:1:abc",
            hostname="other",
            pid=1,
            mailing=mailing,
            started_at=mailing.started_at,
            heartbeat_at=timezone.now(),
        )

        class Timed(smtp.DjangoBackendTransport):
            def send(
                self, sender: str, recipient: str, message: bytes, next_recipient: str | None = None
            ) -> smtp.Outcome:
                handed_over_at.append(clock[0])
                return super().send(sender, recipient, message, next_recipient)

        report = lanes.SendLane(mailing.pk, transport=Timed()).run()

        assert report.sent == 21
        gaps = {round(b - a, 6) for a, b in pairwise(handed_over_at)}
        assert gaps == {0.2}  # 10/s shared by two lanes: 5/s each
