"""lib/retry.py: one policy for trying again, and tasks that re-enqueue themselves with it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from hypothesis import given
from hypothesis import strategies as st

from groundswell.lib.retry import RetryPolicy
from groundswell.members.tasks import RETRY, send_member_email
from tests.conftest import SmtpSink, free_port

CONTEXT = {"first_name": "Bob"}


class TestRetryPolicy:
    @given(st.lists(st.integers(min_value=0, max_value=10**6), max_size=8), st.data())
    def test_it_waits_each_delay_in_turn_then_gives_up(self, delays, data):
        policy = RetryPolicy(delays=tuple(delays))
        attempt = data.draw(st.integers(min_value=1, max_value=len(delays) + 3))
        expected = timedelta(seconds=delays[attempt - 1]) if attempt <= len(delays) else None
        assert policy.delay_after(attempt) == expected
        assert policy.max_attempts == len(delays) + 1

    def test_it_counts_the_wait_from_the_failure(self):
        failed_at = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
        policy = RetryPolicy(delays=(60, 300))
        assert policy.retry_at(2, failed_at) == failed_at + timedelta(seconds=300)
        assert policy.retry_at(3, failed_at) is None

    def test_it_refuses_an_attempt_zero(self):
        with pytest.raises(ValueError):
            RetryPolicy(delays=(60,)).delay_after(0)


@pytest.fixture
def smtp_down(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nothing listens


@pytest.mark.django_db
class TestMemberEmailRetries:
    def test_it_tries_again_later_while_the_mail_server_is_down(self, smtp_down: None) -> None:
        send_member_email.call("email-change-notice", "bob@example.org", CONTEXT, 2)

        [retry] = DBTaskResult.objects.all()
        assert retry.args_kwargs["args"] == [
            "email-change-notice",
            "bob@example.org",
            CONTEXT,
            3,
        ]
        wait = retry.run_after - timezone.now()
        assert timedelta(seconds=RETRY.delays[1] - 10) < wait <= timedelta(seconds=RETRY.delays[1])

    def test_it_gives_up_after_the_last_attempt_and_says_so(self, smtp_down: None) -> None:
        with pytest.raises(OSError):
            send_member_email.call(
                "email-change-notice", "bob@example.org", CONTEXT, RETRY.max_attempts
            )
        assert not DBTaskResult.objects.exists()

    def test_it_fails_rather_than_pretend_when_the_backend_cannot_wait(
        self, smtp_down: None, settings: Any
    ) -> None:
        settings.TASKS = {
            "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}
        }
        with pytest.raises(OSError):
            send_member_email.call("email-change-notice", "bob@example.org", CONTEXT, 1)

    def test_it_sends_once_the_server_answers(
        self, smtp_down: None, smtp_sink: SmtpSink, settings: Any
    ) -> None:
        settings.EMAIL_PORT = smtp_sink.port
        send_member_email.call("email-change-notice", "bob@example.org", CONTEXT, 3)
        assert [m["To"] for m in smtp_sink.messages] == ["bob@example.org"]
        assert not DBTaskResult.objects.exists()
