"""The sending kill switch: `groundswell sending pause-all` pauses every mailing that
is sending; `resume-all` resumes exactly those, not one staff had paused themselves."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from groundswell.mailings.actions.send import do_pause_send
from groundswell.mailings.models import Mailing, MailingStatus
from groundswell.members.models import AuditAction, AuditEntry
from tests.cast import default_list, make_mailing, make_org

pytestmark = pytest.mark.django_db


def sending(action: str) -> str:
    out = StringIO()
    call_command("sending", action, stdout=out)
    return out.getvalue()


def status(mailing: Mailing) -> str:
    mailing.refresh_from_db()
    return mailing.status


class TestSendingSwitch:
    def test_pause_all_pauses_every_sending_mailing_and_resume_all_only_those(self) -> None:
        org = make_org()
        supporters = default_list(org)
        first, second, by_hand = (
            make_mailing(org, supporters, status=MailingStatus.SENDING) for _ in range(3)
        )
        draft = make_mailing(org, supporters)
        do_pause_send(by_hand, actor="staff:alice")

        assert "Paused 2 mailings" in sending("pause-all")
        assert [status(m) for m in (first, second, by_hand, draft)] == [
            "paused",
            "paused",
            "paused",
            "draft",
        ]
        assert (
            AuditEntry.objects.filter(
                action=AuditAction.MAILING_PAUSED, details__pause_all=True
            ).count()
            == 2
        )

        assert "Resumed 2 mailings" in sending("resume-all")
        assert [status(m) for m in (first, second, by_hand)] == ["sending", "sending", "paused"]

    def test_pause_all_names_scheduled_mailings_it_leaves_alone(self) -> None:
        org = make_org()
        scheduled = make_mailing(org, default_list(org), status=MailingStatus.SCHEDULED)
        output = sending("pause-all")
        assert "Paused 0 mailings" in output
        assert (
            f"scheduled to start on their own (unschedule them to stop them): {scheduled.pk}"
            in output
        )
