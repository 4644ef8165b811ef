"""Complaint rate per mailing, and the one warning staff get when it passes 0.1%."""

from __future__ import annotations

import logging

import pytest
from django.core import mail
from django.utils import timezone

from groundswell.bounces.actions import do_process_report_message
from groundswell.bounces.complaints import (
    complaint_rate,
    is_complaint_rate_alarming,
    warn_if_complaint_rate_alarming,
)
from groundswell.bounces.models import ComplaintAlert
from groundswell.mailings.models import MailingRecipient, RecipientState
from tests.bounces.cast import FRANK, mail_member, make_campaign, sample


@pytest.fixture
def campaign(db):
    return make_campaign()


def add_copies(campaign, count: int, *, state=RecipientState.SENT, complained: int = 0):
    now = timezone.now()
    MailingRecipient.objects.bulk_create(
        MailingRecipient(
            mailing=campaign.mailing,
            email=f"member{n}@example.org",
            state=state,
            sent_at=now if state == RecipientState.SENT else None,
            complained_at=now if n < complained else None,
        )
        for n in range(count)
    )


class TestComplaintRate:
    def test_it_is_zero_before_anything_is_sent(self, campaign):
        add_copies(campaign, 10, state=RecipientState.QUEUED)
        assert complaint_rate(campaign.mailing) == 0.0
        assert not is_complaint_rate_alarming(campaign.mailing)

    def test_it_counts_complaints_per_message_sent(self, campaign):
        add_copies(campaign, 2000, complained=2)
        # Copies still queued are not messages anyone could complain about yet.
        add_copies(campaign, 500, state=RecipientState.QUEUED)
        assert complaint_rate(campaign.mailing) == pytest.approx(0.001)

    def test_exactly_one_in_a_thousand_is_not_yet_alarming(self, campaign):
        add_copies(campaign, 1000, complained=1)
        assert not is_complaint_rate_alarming(campaign.mailing)

    def test_two_in_a_thousand_is_alarming(self, campaign):
        add_copies(campaign, 1000, complained=2)
        assert is_complaint_rate_alarming(campaign.mailing)


class TestComplaintWarning:
    def test_staff_are_told_once_when_a_complaint_crosses_the_limit(
        self, campaign, settings, caplog, django_capture_on_commit_callbacks
    ):
        settings.ADMINS = [("Alice", "alice@earthworm.example.org")]
        add_copies(campaign, 998, complained=1)
        mail_member(campaign, FRANK)

        with caplog.at_level(logging.WARNING), django_capture_on_commit_callbacks(execute=True):
            do_process_report_message(sample("arf-abuse.eml"))

        assert [m.to for m in mail.outbox] == [
            ["alice@earthworm.example.org", "hello@earthworm.example.org"],
            ["alice@earthworm.example.org"],
        ]
        assert "0.20%" in mail.outbox[0].subject
        assert "The worms need you this week" in mail.outbox[0].subject
        assert "Complaint rate 0.20%" in caplog.text
        assert ComplaintAlert.objects.get().mailing == campaign.mailing

        mail.outbox.clear()
        MailingRecipient.objects.filter(complained_at__isnull=True).first().delete()
        assert warn_if_complaint_rate_alarming(campaign.mailing) is False
        assert mail.outbox == []

    def test_a_complaint_below_the_limit_tells_nobody(
        self, campaign, django_capture_on_commit_callbacks
    ):
        add_copies(campaign, 2000)
        mail_member(campaign, FRANK)

        with django_capture_on_commit_callbacks(execute=True):
            do_process_report_message(sample("arf-abuse.eml"))

        assert mail.outbox == []
        assert ComplaintAlert.objects.count() == 0
