"""Starting a send and the send loop, against a real SMTP server on localhost."""

from __future__ import annotations

import smtplib
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from groundswell.mailings import claims, lanes, smtp
from groundswell.mailings.actions.send import (
    SendError,
    do_cancel_send,
    do_schedule_send,
    do_start_send,
)
from groundswell.mailings.models import Mailing, MailingRecipient, MailingStatus, RecipientState
from groundswell.mailings.tasks import check_mailings
from groundswell.members.actions.suppression import do_suppress
from groundswell.members.models import SuppressionReason
from groundswell.orgs.models import MailingList, Organisation
from tests.cast import make_mailing, make_people, subscribe_all
from tests.conftest import SmtpSink


def delivered(sink: SmtpSink) -> Counter[str]:
    with sink.handler.lock:
        return Counter(rcpt for env in sink.handler.envelopes for rcpt in env.rcpt_tos)


def start(mailing: Mailing, capture: Any) -> Mailing:
    with capture(execute=True):
        return do_start_send(mailing)


class TestStartSend:
    def test_it_freezes_recipients_and_sends_each_one_message(
        self,
        org: Organisation,
        supporters: MailingList,
        smtp_sink: SmtpSink,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        people = make_people(30)
        subscribe_all(people, supporters)
        do_suppress("member7@example.org", reason=SuppressionReason.COMPLAINED, source="test")
        mailing = make_mailing(org, supporters)

        start(mailing, django_capture_on_commit_callbacks)

        mailing.refresh_from_db()
        assert mailing.status == MailingStatus.SENT
        assert mailing.recipient_count == 29
        assert mailing.finished_at is not None
        counts = delivered(smtp_sink)
        assert len(counts) == 29 and set(counts.values()) == {1}
        assert "member7@example.org" not in counts
        rows = MailingRecipient.objects.filter(mailing=mailing)
        assert {r.state for r in rows} == {RecipientState.SENT}
        first = rows.get(email="member0@example.org")
        assert first.smtp_response.startswith("250")
        assert first.message_id.startswith("<") and first.sent_at is not None
        message = next(m for m in smtp_sink.messages if m["To"] and "member0@" in m["To"])
        assert message["Subject"] == "Cancel the contract this week"
        assert message["Message-ID"] == first.message_id

    def test_it_keeps_the_recipients_fixed_once_the_send_started(
        self, org: Organisation, supporters: MailingList, settings: Any
    ) -> None:
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        subscribe_all(make_people(3), supporters)
        mailing = do_start_send(make_mailing(org, supporters))  # on_commit not run: no send
        subscribe_all(make_people(2, prefix="late"), supporters)

        assert MailingRecipient.objects.filter(mailing=mailing).count() == 3
        assert not MailingRecipient.objects.filter(email__startswith="late").exists()

    def test_it_refuses_a_mailing_without_lists_or_already_started(
        self, org: Organisation, supporters: MailingList
    ) -> None:
        with pytest.raises(SendError, match="at least one list"):
            do_start_send(make_mailing(org))
        sent = make_mailing(org, supporters, status=MailingStatus.SENT)
        with pytest.raises(SendError, match="draft or scheduled"):
            do_start_send(sent)

    def test_it_finishes_at_once_with_nobody_to_send_to(
        self, org: Organisation, supporters: MailingList, django_capture_on_commit_callbacks: Any
    ) -> None:
        mailing = start(make_mailing(org, supporters), django_capture_on_commit_callbacks)
        mailing.refresh_from_db()
        assert mailing.status == MailingStatus.SENT
        assert mailing.recipient_count == 0


class TestServerAnswers:
    def test_it_fails_permanent_rejections_and_retries_temporary_ones(
        self,
        org: Organisation,
        supporters: MailingList,
        smtp_sink: SmtpSink,
        django_capture_on_commit_callbacks: Any,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        original = smtp_sink.handler.handle_DATA

        async def picky(server: Any, session: Any, envelope: Any) -> str:
            if envelope.rcpt_tos == ["member1@example.org"]:
                return "550 5.1.1 No such mailbox"
            if envelope.rcpt_tos == ["member2@example.org"]:
                return "451 4.3.0 Try again later"
            return await original(server, session, envelope)

        monkeypatch.setattr(smtp_sink.handler, "handle_DATA", picky)
        subscribe_all(make_people(4), supporters)
        mailing = start(make_mailing(org, supporters), django_capture_on_commit_callbacks)

        rows = {r.email: r for r in MailingRecipient.objects.filter(mailing=mailing)}
        assert rows["member0@example.org"].state == RecipientState.SENT
        rejected = rows["member1@example.org"]
        assert rejected.state == RecipientState.FAILED
        assert rejected.smtp_response == "550 5.1.1 No such mailbox"
        later = rows["member2@example.org"]
        assert later.state == RecipientState.QUEUED
        assert later.attempts == 1
        assert later.next_attempt_at is not None and later.next_attempt_at > timezone.now()
        mailing.refresh_from_db()
        assert mailing.status == MailingStatus.SENDING  # waiting for the retry

        # The retry is due and the server now takes it.
        MailingRecipient.objects.filter(pk=later.pk).update(next_attempt_at=timezone.now())
        monkeypatch.setattr(smtp_sink.handler, "handle_DATA", original)
        check_mailings()
        later.refresh_from_db()
        mailing.refresh_from_db()
        assert later.state == RecipientState.SENT and later.attempts == 2
        assert mailing.status == MailingStatus.SENT
        assert delivered(smtp_sink)["member2@example.org"] == 1

    def test_it_gives_up_after_the_last_attempt(
        self, org: Organisation, supporters: MailingList, smtp_sink: SmtpSink, settings: Any
    ) -> None:
        subscribe_all(make_people(1), supporters)
        mailing = do_start_send(make_mailing(org, supporters))
        MailingRecipient.objects.filter(mailing=mailing).update(
            attempts=claims.RETRY.max_attempts - 1
        )

        async def busy(server: Any, session: Any, envelope: Any) -> str:
            return "452 4.2.2 Mailbox full"

        smtp_sink.handler.handle_DATA = busy  # type: ignore[method-assign]
        lanes.SendLane(mailing.pk).run()

        row = MailingRecipient.objects.get(mailing=mailing)
        assert row.state == RecipientState.FAILED
        assert row.smtp_response == "452 4.2.2 Mailbox full"

    def test_it_waits_and_keeps_everyone_queued_when_the_server_is_down(
        self, org: Organisation, supporters: MailingList, settings: Any
    ) -> None:
        from tests.conftest import free_port

        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
        subscribe_all(make_people(3), supporters)
        mailing = do_start_send(make_mailing(org, supporters))

        report = lanes.SendLane(mailing.pk).run()

        assert report.stopped_because == "mail server unreachable"
        states = Counter(
            MailingRecipient.objects.filter(mailing=mailing).values_list("state", flat=True)
        )
        assert states == {RecipientState.QUEUED: 3}


class TestClaiming:
    def test_two_workers_never_claim_the_same_recipient(
        self, org: Organisation, supporters: MailingList, settings: Any
    ) -> None:
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        subscribe_all(make_people(25), supporters)
        mailing = do_start_send(make_mailing(org, supporters))

        first = claims.claim_batch(mailing.pk, "worker-1", size=10)
        second = claims.claim_batch(mailing.pk, "worker-2", size=10)
        third = claims.claim_batch(mailing.pk, "worker-3", size=10)

        assert len(first) == 10 and len(second) == 10 and len(third) == 5
        assert not set(first) & set(second)
        assert claims.claim_batch(mailing.pk, "worker-4") == []
        assert MailingRecipient.objects.filter(claimed_by="worker-2", state="claimed").count() == 10


class TestSchedule:
    def test_a_scheduled_mailing_starts_when_due(
        self,
        org: Organisation,
        supporters: MailingList,
        smtp_sink: SmtpSink,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        subscribe_all(make_people(2), supporters)
        mailing = make_mailing(org, supporters)
        with django_capture_on_commit_callbacks(execute=True):
            do_schedule_send(mailing, timezone.now() + timedelta(hours=1))
        check_mailings()
        mailing.refresh_from_db()
        assert mailing.status == MailingStatus.SCHEDULED
        assert delivered(smtp_sink) == Counter()

        Mailing.objects.filter(pk=mailing.pk).update(scheduled_at=timezone.now())
        with django_capture_on_commit_callbacks(execute=True):
            check_mailings()
        mailing.refresh_from_db()
        assert mailing.status == MailingStatus.SENT
        assert sum(delivered(smtp_sink).values()) == 2

    def test_a_cancelled_schedule_never_sends(
        self, org: Organisation, supporters: MailingList, smtp_sink: SmtpSink
    ) -> None:
        subscribe_all(make_people(2), supporters)
        mailing = do_schedule_send(make_mailing(org, supporters), timezone.now())
        do_cancel_send(mailing)
        check_mailings()
        mailing.refresh_from_db()
        assert mailing.status == MailingStatus.CANCELLED
        assert delivered(smtp_sink) == Counter()


def test_smtplib_is_what_talks_to_the_server() -> None:
    assert smtp.SmtpTransport().connection is None
    assert smtplib.SMTP is not None


class TestProgressJson:
    def test_it_shows_staff_the_counts_and_rate(
        self,
        org: Organisation,
        supporters: MailingList,
        smtp_sink: SmtpSink,
        django_capture_on_commit_callbacks: Any,
        rf: Any,
        admin_user: Any,
    ) -> None:
        import json

        from groundswell.mailings.progress import progress_json

        subscribe_all(make_people(5), supporters)
        mailing = start(make_mailing(org, supporters), django_capture_on_commit_callbacks)
        # As if the send had begun 5 seconds ago: the rate is over the time since.
        Mailing.objects.filter(pk=mailing.pk).update(
            started_at=timezone.now() - timedelta(seconds=5)
        )
        request = rf.get("/")
        request.user = admin_user

        data = json.loads(progress_json(request, mailing.pk).content)

        assert data["status"] == "sent"
        assert (data["sent"], data["total"], data["failed"], data["unknown"]) == (5, 5, 0, 0)
        assert data["rate"] == 1.0

    def test_it_is_for_staff_only(self, org: Organisation, rf: Any) -> None:
        from django.contrib.auth.models import AnonymousUser

        from groundswell.mailings.progress import progress_json

        request = rf.get("/")
        request.user = AnonymousUser()
        assert progress_json(request, 1).status_code == 302
