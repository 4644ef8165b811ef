"""The emails to a signer besides the thank-you: the confirmation link and the "already
signed" note. Like the thank-you they come from the petition's lead sponsor, and go
only to an address we may email now: not suppressed, under the daily limit, and
claimed, so two workers never send the same one (petitions/tasks.py emailable)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from groundswell.lib.tokens import email_hash
from groundswell.members.models import Suppression
from groundswell.petitions import tasks
from groundswell.petitions.actions.signing import SignatureDetails, do_sign_petition
from groundswell.petitions.models import Petition, Signature, SignatureConfirmation
from groundswell.petitions.tasks import send_already_signed_notes, send_confirmation_emails

pytestmark = pytest.mark.django_db

CHARLIE = SignatureDetails(email="charlie@example.org", first_name="Charlie", last_name="Stranger")
OPEN_PRESS = "Open Press <hello@open-press.example.org>"


def signed(petition: Petition, *, confirm_by_email: bool) -> Signature:
    """Charlie's signature, its emails not sent (the test sends them)."""
    petition.confirm_by_email = confirm_by_email
    petition.save()
    signature = do_sign_petition(petition, CHARLIE).signature
    assert signature is not None
    return signature


class TestConfirmationEmail:
    def test_it_comes_from_the_lead_sponsor_to_the_signer(self, petition: Petition) -> None:
        signature = signed(petition, confirm_by_email=True)

        assert send_confirmation_emails.call([signature.pk]) == "1 sent"

        [message] = mail.outbox
        assert message.from_email == OPEN_PRESS
        assert message.to == ["charlie@example.org"]
        assert message.subject == "Please confirm your signature: Cancel the contract"

    def test_it_renders_no_thank_you_on_the_way(
        self, petition: Petition, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        signature = signed(petition, confirm_by_email=True)
        rendered: list[str] = []
        render = tasks.render_plain_text

        def spy(template: str, context: dict[str, Any]) -> str:
            rendered.append(template)
            return render(template, context)

        monkeypatch.setattr(tasks, "render_plain_text", spy)

        send_confirmation_emails.call([signature.pk])

        assert rendered == ["petitions/email/confirm-email.txt"]

    def test_it_counts_a_suppressed_address_and_sends_it_nothing(self, petition: Petition) -> None:
        signature = signed(petition, confirm_by_email=True)
        Suppression.objects.create(email_hash=email_hash("charlie@example.org"), reason="staff")

        assert send_confirmation_emails.call([signature.pk]) == "1 suppressed"
        assert mail.outbox == []

    def test_it_counts_an_address_over_the_daily_limit(
        self, petition: Petition, settings: Any
    ) -> None:
        settings.THANK_YOU_EMAILS_PER_DAY = 1
        signature = signed(petition, confirm_by_email=True)
        SignatureConfirmation.objects.update(emailed_at=timezone.now())

        assert send_confirmation_emails.call([signature.pk]) == "1 daily limit reached"
        assert mail.outbox == []

    def test_it_counts_one_sent_lately_and_sends_it_once(self, petition: Petition) -> None:
        signature = signed(petition, confirm_by_email=True)

        send_confirmation_emails.call([signature.pk])

        assert send_confirmation_emails.call([signature.pk]) == "1 sent lately"
        assert len(mail.outbox) == 1


class TestAlreadySignedNote:
    def test_it_comes_from_the_lead_sponsor_to_the_signer(self, petition: Petition) -> None:
        signature = signed(petition, confirm_by_email=False)
        Signature.objects.filter(pk=signature.pk).update(
            thanked_at=timezone.now() - timedelta(days=2)
        )

        assert send_already_signed_notes.call([signature.pk]) == "1 sent"

        [note] = mail.outbox
        assert note.from_email == OPEN_PRESS
        assert note.to == ["charlie@example.org"]
        assert note.subject == "You had already signed: Cancel the contract"
        assert "Thank you for signing" not in note.body

    def test_it_sends_nothing_to_a_suppressed_address(self, petition: Petition) -> None:
        signature = signed(petition, confirm_by_email=False)
        Signature.objects.filter(pk=signature.pk).update(
            thanked_at=timezone.now() - timedelta(days=2)
        )
        Suppression.objects.create(email_hash=email_hash("charlie@example.org"), reason="staff")

        assert send_already_signed_notes.call([signature.pk]) == "0 sent"
        assert mail.outbox == []
