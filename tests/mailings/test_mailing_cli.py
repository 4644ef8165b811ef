"""`groundswell mailing …`: the public contract of issue 6."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from groundswell.mailings.models import Mailing, MailingRecipient, MailingStatus, RecipientState
from groundswell.orgs.models import MailingList, Organisation
from tests.cast import make_mailing, make_people, subscribe_all


def run(*args: str) -> str:
    out = StringIO()
    call_command("mailing", *args, stdout=out)
    return out.getvalue()


pytestmark = pytest.mark.usefixtures("mail_in_memory")


@pytest.fixture
def supporters(supporters: MailingList) -> MailingList:
    subscribe_all(make_people(12), supporters)
    return supporters


class TestMailingCommand:
    def test_list_prints_id_status_recipients_sent_and_subject(
        self, org: Organisation, supporters: MailingList
    ) -> None:
        draft = make_mailing(org, supporters, subject="Draft one")
        run("send", str(make_mailing(org, supporters, subject="Sent one").pk), "--now")

        lines = run("list").splitlines()

        assert lines[0] == f"{draft.pk}\tdraft\t0\t0\tDraft one"
        assert lines[1].split("\t") == [str(draft.pk + 1), "sent", "12", "12", "Sent one"]

    def test_send_now_sends_everything_before_it_returns(
        self, org: Organisation, supporters: MailingList
    ) -> None:
        mailing = make_mailing(org, supporters)

        out = run("send", str(mailing.pk), "--now")

        mailing.refresh_from_db()
        assert mailing.status == MailingStatus.SENT
        assert len(mail.outbox) == 12
        assert "sending to 12 recipients" in out
        assert "sent: 12/12 sent" in out

    def test_send_without_now_leaves_the_sending_to_workers(
        self, org: Organisation, supporters: MailingList
    ) -> None:
        mailing = make_mailing(org, supporters)
        out = run("send", str(mailing.pk))  # on_commit work does not run in this test
        mailing.refresh_from_db()
        assert mailing.status == MailingStatus.SENDING
        assert "groundswell worker" in out
        assert MailingRecipient.objects.filter(mailing=mailing).count() == 12

    def test_pause_resume_and_cancel(self, org: Organisation, supporters: MailingList) -> None:
        mailing = make_mailing(org, supporters)
        run("send", str(mailing.pk))

        assert "paused" in run("pause", str(mailing.pk))
        assert Mailing.objects.get(pk=mailing.pk).status == MailingStatus.PAUSED
        assert "resumed" in run("resume", str(mailing.pk))
        assert "cancelled" in run("cancel", str(mailing.pk))
        mailing.refresh_from_db()
        assert mailing.status == MailingStatus.CANCELLED
        assert set(
            MailingRecipient.objects.filter(mailing=mailing).values_list("state", flat=True)
        ) == {RecipientState.CANCELLED}

    def test_it_says_what_is_wrong(self, org: Organisation, supporters: MailingList) -> None:
        with pytest.raises(CommandError, match="No mailing with id 999"):
            run("pause", "999")
        mailing = make_mailing(org, supporters)
        with pytest.raises(CommandError, match="Only a mailing that is sending"):
            run("pause", str(mailing.pk))

    def test_report_as_text_and_json(self, org: Organisation, supporters: MailingList) -> None:
        mailing = make_mailing(org, supporters)
        run("send", str(mailing.pk), "--now")

        data = json.loads(run("report", str(mailing.pk), "--json"))
        text = run("report", str(mailing.pk))

        assert json.dumps(data)  # plain JSON
        assert "12" in text
