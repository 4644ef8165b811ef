"""Unknown recipients: staff see the copies in doubt and decide, "mark as sent" or "send again".

A recipient is unknown when its worker died while handing its copy to the mail server.
Open Press's mailing went to five supporters: three copies were sent, two were in
the hands of worker web-1 when it was killed. Alice (staff) decides what happened.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.db import transaction
from django.test import Client
from django.utils import timezone

from groundswell.mailings import claims, progress, smtp
from groundswell.mailings.actions.send import (
    SendError,
    do_cancel_send,
    do_pause_send,
    do_start_send,
)
from groundswell.mailings.actions.unknown import (
    DECIDED_AGAIN,
    DECIDED_SENT,
    do_mark_unknown_sent,
    do_send_unknown_again,
)
from groundswell.mailings.models import Mailing, MailingRecipient, MailingStatus, RecipientState
from groundswell.members.models import AuditEntry
from groundswell.orgs.models import MailingList, Organisation
from groundswell.reports.mailings import mailing_report
from tests.cast import make_mailing, make_people, subscribe_all

pytestmark = pytest.mark.django_db

DEAD_WORKER = "web-1:4242:0a1b2c3d4e5f"
RECOVERED = "unknown: the worker stopped while handing this message to the server"
HANDED_OVER = timezone.now().replace(microsecond=0) - timedelta(minutes=7)


def crashed_send(org: Organisation, supporters: MailingList, *, unknown: int = 2) -> Mailing:
    """A finished send: three copies sent, `unknown` in doubt after web-1 was killed."""
    subscribe_all(make_people(3 + unknown), supporters)
    mailing = do_start_send(make_mailing(org, supporters))  # on_commit not run: no send
    ids = list(
        MailingRecipient.objects.filter(mailing=mailing).order_by("pk").values_list("pk", flat=True)
    )
    now = timezone.now()
    MailingRecipient.objects.filter(pk__in=ids[:3]).update(
        state=RecipientState.SENT, sent_at=now, smtp_response="250 OK"
    )
    MailingRecipient.objects.filter(pk__in=ids[3:]).update(
        state=RecipientState.UNKNOWN,
        claimed_by=DEAD_WORKER,
        claimed_at=HANDED_OVER,
        smtp_response=RECOVERED,
    )
    Mailing.objects.filter(pk=mailing.pk).update(status=MailingStatus.SENT, finished_at=now)
    return Mailing.objects.get(pk=mailing.pk)


def in_doubt(mailing: Mailing) -> list[MailingRecipient]:
    return list(
        MailingRecipient.objects.filter(mailing=mailing, state=RecipientState.UNKNOWN).order_by(
            "pk"
        )
    )


def states(mailing: Mailing) -> dict[str, int]:
    return {state: n for state, n in progress.state_counts(mailing.pk).items() if n}


@pytest.fixture
def crashed(org: Organisation, supporters: MailingList) -> Mailing:
    return crashed_send(org, supporters)


def page_text(response: Any) -> str:
    return response.content.decode().replace("&#x27;", "'")


class TestMailingPage:
    def test_it_shows_how_many_are_unknown_and_links_to_them(
        self, alice_client: Client, crashed: Mailing
    ) -> None:
        response = alice_client.get(f"/staff/mailings/{crashed.pk}/")
        text = page_text(response)
        assert response.status_code == 200
        assert "2 recipients in doubt" in text
        assert "2 recipients are unknown." in text
        assert f'href="/staff/mailings/{crashed.pk}/unknown/"' in text

    def test_it_shows_none_in_doubt_without_a_warning(
        self, alice_client: Client, org: Organisation, supporters: MailingList
    ) -> None:
        mailing = crashed_send(org, supporters, unknown=0)
        text = page_text(alice_client.get(f"/staff/mailings/{mailing.pk}/"))
        assert "0 recipients in doubt" in text
        assert "are unknown." not in text

    def test_it_says_nothing_about_unknowns_before_the_send(
        self, alice_client: Client, org: Organisation, supporters: MailingList
    ) -> None:
        mailing = make_mailing(org, supporters)
        text = page_text(alice_client.get(f"/staff/mailings/{mailing.pk}/"))
        assert "in doubt" not in text


class TestUnknownPage:
    def test_it_lists_each_copy_in_doubt_and_explains_what_unknown_means(
        self, alice_client: Client, crashed: Mailing
    ) -> None:
        response = alice_client.get(f"/staff/mailings/{crashed.pk}/unknown/")
        text = page_text(response)
        assert response.status_code == 200
        for recipient in in_doubt(crashed):
            assert recipient.email in text
            assert f'name="recipient" value="{recipient.pk}"' in text
        assert "Member3" in text and "Member4" in text
        assert "member0@example.org" not in text  # sent: not in doubt
        assert HANDED_OVER.strftime("%Y-%m-%d %H:%M:%S") in text
        assert DEAD_WORKER in text
        assert "may or may not have it" in text
        assert "Mark all 2 as sent" in text
        assert "Send all 2 again" in text
        assert 'name="expected" value="2"' in text

    def test_it_keeps_strangers_out(self, crashed: Mailing) -> None:
        response = Client().get(f"/staff/mailings/{crashed.pk}/unknown/")
        assert response.status_code == 302
        assert "/staff/login/" in response["Location"]

    def test_it_keeps_members_who_are_not_staff_from_deciding(self, crashed: Mailing) -> None:
        client = Client()
        client.force_login(User.objects.create_user("bob", "bob@example.org", "x-Pass-12345"))
        response = client.post(f"/staff/mailings/{crashed.pk}/unknown/sent/", {"expected": 2})
        assert response.status_code == 404
        assert len(in_doubt(crashed)) == 2

    def test_it_says_when_none_is_left_and_shows_who_decided(
        self, alice_client: Client, crashed: Mailing
    ) -> None:
        first, second = in_doubt(crashed)
        alice_client.post(f"/staff/mailings/{crashed.pk}/unknown/sent/", {"recipient": first.pk})
        alice_client.post(f"/staff/mailings/{crashed.pk}/unknown/sent/", {"recipient": second.pk})
        text = page_text(alice_client.get(f"/staff/mailings/{crashed.pk}/unknown/"))
        assert "No recipient of this mailing is unknown." in text
        assert "Decided so far" in text
        assert text.count("marked as sent") == 2
        assert first.email in text and second.email in text
        assert "alice" in text

    def test_it_offers_only_mark_as_sent_once_the_send_was_cancelled(
        self, alice_client: Client, org: Organisation, supporters: MailingList
    ) -> None:
        mailing = crashed_send(org, supporters)
        Mailing.objects.filter(pk=mailing.pk).update(status=MailingStatus.CANCELLED)
        text = page_text(alice_client.get(f"/staff/mailings/{mailing.pk}/unknown/"))
        assert "Mark all 2 as sent" in text
        assert "Send all 2 again" not in text
        assert "you can only mark them as sent" in text


class TestMarkAsSent:
    def test_it_counts_one_copy_as_sent_at_its_hand_over_and_records_who_decided(
        self, alice_client: Client, alice: User, crashed: Mailing
    ) -> None:
        first, second = in_doubt(crashed)
        response = alice_client.post(
            f"/staff/mailings/{crashed.pk}/unknown/sent/", {"recipient": first.pk}, follow=True
        )
        assert "1 recipient now counts as sent." in page_text(response)
        first.refresh_from_db()
        assert first.state == RecipientState.SENT
        assert first.sent_at == HANDED_OVER
        assert "assumed sent, decided by alice" in first.smtp_response
        assert [r.pk for r in in_doubt(crashed)] == [second.pk]
        entry = AuditEntry.objects.get(action=DECIDED_SENT)
        assert entry.actor == "alice"
        assert entry.person_id == first.person_id
        assert entry.details["mailing"] == crashed.pk
        assert entry.details["recipient"] == first.pk
        assert entry.details["worker"] == DEAD_WORKER
        assert entry.details["what_we_knew"] == RECOVERED
        assert timezone.now() - entry.created_at < timedelta(minutes=1)

    def test_it_marks_all_and_the_progress_and_report_follow(
        self, alice_client: Client, crashed: Mailing
    ) -> None:
        before = progress.progress(crashed)
        assert (before["sent"], before["unknown"]) == (3, 2)
        assert mailing_report(crashed)["unknown"] == 2

        response = alice_client.post(
            f"/staff/mailings/{crashed.pk}/unknown/sent/", {"expected": 2}, follow=True
        )

        assert "2 recipients now count as sent." in page_text(response)
        after = progress.progress(Mailing.objects.get(pk=crashed.pk))
        assert (after["sent"], after["unknown"]) == (5, 0)
        report = mailing_report(crashed)
        assert (report["sent"], report["unknown"]) == (5, 0)
        shown = alice_client.get(f"/staff/mailings/{crashed.pk}/progress.json").json()
        assert (shown["sent"], shown["unknown"]) == (5, 0)
        assert AuditEntry.objects.filter(action=DECIDED_SENT).count() == 2
        assert mail.outbox == []
        assert Mailing.objects.get(pk=crashed.pk).status == MailingStatus.SENT

    def test_it_refuses_all_when_more_became_unknown_since_the_page_was_loaded(
        self, alice_client: Client, crashed: Mailing
    ) -> None:
        response = alice_client.post(
            f"/staff/mailings/{crashed.pk}/unknown/sent/", {"expected": 1}, follow=True
        )
        assert "changed since the page was loaded" in page_text(response)
        assert len(in_doubt(crashed)) == 2
        assert not AuditEntry.objects.filter(action=DECIDED_SENT).exists()

    def test_it_refuses_a_copy_someone_already_decided(
        self, alice_client: Client, crashed: Mailing
    ) -> None:
        first = in_doubt(crashed)[0]
        do_mark_unknown_sent(crashed, [first.pk])
        response = alice_client.post(
            f"/staff/mailings/{crashed.pk}/unknown/again/", {"recipient": first.pk}, follow=True
        )
        assert "no longer unknown" in page_text(response)
        assert MailingRecipient.objects.get(pk=first.pk).state == RecipientState.SENT
        assert AuditEntry.objects.filter(action=DECIDED_AGAIN).count() == 0

    @pytest.mark.parametrize(
        "data", [{}, {"recipient": "x"}, {"recipient": "1", "expected": "2"}, {"expected": "0"}]
    )
    def test_it_asks_for_one_recipient_or_all(
        self, alice_client: Client, crashed: Mailing, data: dict[str, str]
    ) -> None:
        response = alice_client.post(
            f"/staff/mailings/{crashed.pk}/unknown/sent/", data, follow=True
        )
        assert "Choose one recipient, or all of them." in page_text(response)
        assert len(in_doubt(crashed)) == 2

    def test_it_changes_nothing_on_a_get(self, alice_client: Client, crashed: Mailing) -> None:
        response = alice_client.get(f"/staff/mailings/{crashed.pk}/unknown/sent/")
        assert response.status_code == 405
        assert len(in_doubt(crashed)) == 2

    def test_it_leaves_other_mailings_alone(
        self, org: Organisation, supporters: MailingList, crashed: Mailing
    ) -> None:
        other = make_mailing(org, supporters, subject="Another one")
        with pytest.raises(SendError):
            do_mark_unknown_sent(other, [in_doubt(crashed)[0].pk])
        assert len(in_doubt(crashed)) == 2


class TestSendAgain:
    def test_it_sends_a_finished_mailings_copies_again_and_finishes_it_again(
        self,
        alice_client: Client,
        crashed: Mailing,
        mail_in_memory: None,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        doubtful = {r.email for r in in_doubt(crashed)}
        with django_capture_on_commit_callbacks(execute=True):
            response = alice_client.post(
                f"/staff/mailings/{crashed.pk}/unknown/again/", {"expected": 2}, follow=True
            )
        assert "2 recipients are queued to be sent again." in page_text(response)
        assert {message.to[0] for message in mail.outbox} == doubtful
        assert len(mail.outbox) == 2
        assert states(crashed) == {RecipientState.SENT: 5}
        mailing = Mailing.objects.get(pk=crashed.pk)
        assert mailing.status == MailingStatus.SENT
        assert mailing.finished_at is not None
        entries = AuditEntry.objects.filter(action=DECIDED_AGAIN)
        assert sorted(e.details["recipient"] for e in entries) == sorted(
            MailingRecipient.objects.filter(email__in=doubtful).values_list("pk", flat=True)
        )
        assert {e.actor for e in entries} == {"alice"}

    def test_it_puts_one_copy_back_in_the_queue_of_a_finished_mailing(
        self, alice: User, crashed: Mailing
    ) -> None:
        first, second = in_doubt(crashed)
        assert do_send_unknown_again(crashed, [first.pk], by=alice) == 1  # on_commit not run
        first.refresh_from_db()
        assert first.state == RecipientState.QUEUED
        assert (first.claimed_by, first.claimed_at, first.next_attempt_at) == ("", None, None)
        assert "queued again by alice" in first.smtp_response
        assert [r.pk for r in in_doubt(crashed)] == [second.pk]
        mailing = Mailing.objects.get(pk=crashed.pk)
        assert (mailing.status, mailing.finished_at) == (MailingStatus.SENDING, None)
        assert progress.progress(mailing)["waiting"] == 1

    def test_a_late_answer_from_the_dead_worker_cannot_overwrite_the_decision(
        self, crashed: Mailing
    ) -> None:
        first = in_doubt(crashed)[0]
        do_send_unknown_again(crashed, [first.pk])
        late = claims.Result(first.pk, 0, smtp.Outcome("sent", "250 OK"), "<late@example>")
        with transaction.atomic():
            claims.write_results([late], DEAD_WORKER)
        first.refresh_from_db()
        assert first.state == RecipientState.QUEUED
        assert first.message_id == ""

    def test_it_keeps_a_paused_mailing_paused_and_says_when_they_go(
        self, alice_client: Client, org: Organisation, supporters: MailingList
    ) -> None:
        mailing = crashed_send(org, supporters)
        Mailing.objects.filter(pk=mailing.pk).update(status=MailingStatus.SENDING)
        do_pause_send(mailing)
        response = alice_client.post(
            f"/staff/mailings/{mailing.pk}/unknown/again/", {"expected": 2}, follow=True
        )
        text = page_text(response)
        assert "they go out when you resume it" in text
        assert Mailing.objects.get(pk=mailing.pk).status == MailingStatus.PAUSED
        assert states(mailing) == {RecipientState.SENT: 3, RecipientState.QUEUED: 2}

    def test_it_refuses_once_the_send_was_cancelled(
        self, alice_client: Client, org: Organisation, supporters: MailingList
    ) -> None:
        mailing = crashed_send(org, supporters)
        Mailing.objects.filter(pk=mailing.pk).update(status=MailingStatus.SENDING)
        do_cancel_send(mailing)
        response = alice_client.post(
            f"/staff/mailings/{mailing.pk}/unknown/again/", {"expected": 2}, follow=True
        )
        assert "This send was cancelled" in page_text(response)
        assert len(in_doubt(mailing)) == 2
        assert not AuditEntry.objects.filter(action=DECIDED_AGAIN).exists()
        # Marking them as sent is still possible.
        assert do_mark_unknown_sent(mailing, expected=2) == 2
