"""The thank-you email: sent after commit through a task, retried while SMTP is down."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from groundswell.lib.tokens import email_hash
from groundswell.members.models import Suppression
from groundswell.petitions.actions.signing import SignatureDetails, do_sign_petition
from groundswell.petitions.models import Petition, Signature
from groundswell.petitions.referrals import read_referral_code
from groundswell.petitions.tasks import RETRY, send_thank_you_email
from tests.conftest import SmtpSink, free_port

CHARLIE = SignatureDetails(email="charlie@example.org", first_name="Charlie", last_name="Stranger")


def run_worker() -> None:
    call_command(
        "db_worker", batch=True, interval=0, startup_delay=False, reload=False, verbosity=0
    )


@pytest.fixture
def database_tasks(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.mark.django_db(transaction=True)
class TestThankYouEmail:
    def test_it_reaches_the_signer_through_smtp(
        self, petition: Petition, smtp_sink: SmtpSink
    ) -> None:
        do_sign_petition(petition, CHARLIE)

        [message] = smtp_sink.messages
        assert message["To"] == "charlie@example.org"
        assert message["From"] == "Open Press <hello@open-press.example.org>"
        assert message["Subject"] == "Thank you for signing: Cancel the contract"
        body = message.get_payload(decode=True).decode()
        assert "Dear Charlie," in body
        assert "http://testserver/sign/cancel-the-contract/?ref=" in body
        code = body.split("?ref=")[1].split("&")[0]
        assert read_referral_code(code) == Signature.objects.get().person_id
        assert Signature.objects.get().thanked_at is not None

    def test_it_is_queued_in_the_signers_transaction(
        self, petition: Petition, database_tasks: None
    ) -> None:
        with pytest.raises(RuntimeError), transaction.atomic():
            do_sign_petition(petition, CHARLIE)
            assert DBTaskResult.objects.count() == 1
            raise RuntimeError("the caller fails after signing")

        assert Signature.objects.count() == 0
        assert DBTaskResult.objects.count() == 0

    def test_it_is_queued_when_the_signature_commits(
        self, petition: Petition, database_tasks: None
    ) -> None:
        do_sign_petition(petition, CHARLIE)

        [task] = DBTaskResult.objects.all()
        assert task.task_path == "groundswell.petitions.tasks.send_thank_you_emails"
        assert task.args_kwargs["args"] == [[Signature.objects.get().pk]]

    def test_it_is_retried_later_while_smtp_is_down(
        self, petition: Petition, smtp_sink: SmtpSink, settings: Any, database_tasks: None
    ) -> None:
        settings.EMAIL_PORT = free_port()  # nothing listens there
        do_sign_petition(petition, CHARLIE)

        run_worker()

        signature = Signature.objects.get()
        assert signature.thanked_at is None
        first, retry = DBTaskResult.objects.order_by("enqueued_at")
        assert first.status == "FAILED"
        assert retry.status == "READY"
        assert retry.args_kwargs["args"] == [signature.pk, 2]
        assert retry.run_after > timezone.now() + timedelta(seconds=RETRY.delays[0] - 10)

        run_worker()  # too early: the retry waits for its time
        assert DBTaskResult.objects.get(pk=retry.pk).status == "READY"

        settings.EMAIL_PORT = smtp_sink.port  # the mail server is back
        DBTaskResult.objects.filter(pk=retry.pk).update(run_after=timezone.now())
        run_worker()

        assert DBTaskResult.objects.get(pk=retry.pk).status == "SUCCESSFUL"
        assert [m["To"] for m in smtp_sink.messages] == ["charlie@example.org"]
        assert Signature.objects.get().thanked_at is not None

    def test_it_gives_up_after_the_last_attempt(
        self, petition: Petition, settings: Any, database_tasks: None
    ) -> None:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
        signature = do_sign_petition(petition, CHARLIE).signature
        assert signature is not None
        DBTaskResult.objects.all().delete()

        with pytest.raises(OSError):
            send_thank_you_email.call(signature.pk, RETRY.max_attempts)

        assert not DBTaskResult.objects.exists()

    def test_it_sends_nothing_to_a_suppressed_address(
        self, petition: Petition, smtp_sink: SmtpSink
    ) -> None:
        Suppression.objects.create(email_hash=email_hash("charlie@example.org"), reason="staff")

        do_sign_petition(petition, CHARLIE)

        assert smtp_sink.messages == []

    def test_it_sends_once_even_if_run_twice(self, petition: Petition, smtp_sink: SmtpSink) -> None:
        signature = do_sign_petition(petition, CHARLIE).signature
        assert signature is not None

        assert send_thank_you_email.call(signature.pk) == "already sent"
        assert len(smtp_sink.messages) == 1
