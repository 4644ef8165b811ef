"""The send buttons on a mailing's staff page: each one shown works, and the actions it
calls leave a row in the audit log."""

from __future__ import annotations

import re
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.contrib.messages import constants
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from groundswell.mailings.actions.send import (
    SendError,
    do_cancel_send,
    do_pause_send,
    do_resume_send,
    do_unschedule_send,
)
from groundswell.mailings.models import Mailing, MailingStatus
from groundswell.mailings.tasks import start_scheduled_mailing
from groundswell.members.models import AuditAction, AuditEntry, Person

pytestmark = pytest.mark.django_db

CONTROLS = ("send", "schedule", "unschedule", "pause", "resume", "cancel")

# What a staff member may press for a mailing in each state.
EXPECTED = {
    MailingStatus.DRAFT: {"send", "schedule"},
    MailingStatus.SCHEDULED: {"send", "unschedule", "cancel"},
    MailingStatus.PREPARING: {"cancel"},
    MailingStatus.SENDING: {"pause", "cancel"},
    MailingStatus.PAUSED: {"resume", "cancel"},
    MailingStatus.SENT: set(),
    MailingStatus.CANCELLED: set(),
}


def put_in(mailing: Mailing, status: MailingStatus) -> Mailing:
    scheduled_at = timezone.now() + timedelta(days=1) if status == MailingStatus.SCHEDULED else None
    Mailing.objects.filter(pk=mailing.pk).update(status=status, scheduled_at=scheduled_at)
    return Mailing.objects.get(pk=mailing.pk)


def buttons(client: Client, mailing: Mailing) -> set[str]:
    page = client.get(f"/staff/mailings/{mailing.pk}/").content.decode()
    shown = set(re.findall(rf'action="/staff/mailings/{mailing.pk}/([a-z]+)/"', page))
    return shown & set(CONTROLS)


def press(client: Client, mailing: Mailing, control: str) -> list[Any]:
    data = {"send_at": "2030-01-01T09:00"} if control == "schedule" else {}
    data["confirmed"] = "1"  # sending and scheduling ask first; this is the second click
    response = client.post(f"/staff/mailings/{mailing.pk}/{control}/", data, follow=True)
    assert response.status_code == 200
    return list(response.context["messages"])


class TestButtons:
    def test_a_scheduled_mailing_shows_no_pause(self, alice_client: Client, mailing: Mailing):
        put_in(mailing, MailingStatus.SCHEDULED)
        shown = buttons(alice_client, mailing)
        assert "pause" not in shown
        assert "unschedule" in shown

    @pytest.mark.parametrize("status", list(EXPECTED))
    def test_it_shows_the_buttons_the_state_allows(
        self, alice_client: Client, mailing: Mailing, status: MailingStatus
    ):
        assert buttons(alice_client, put_in(mailing, status)) == EXPECTED[status]

    @pytest.mark.parametrize("status", list(EXPECTED))
    def test_each_button_shown_works(
        self, alice_client: Client, mailing: Mailing, bob: Person, status: MailingStatus
    ):
        for control in sorted(buttons(alice_client, put_in(mailing, status))):
            put_in(mailing, status)
            told = press(alice_client, mailing, control)
            assert [m.level for m in told] == [constants.SUCCESS], (control, told)
            assert Mailing.objects.get(pk=mailing.pk).status != status, control

    def test_unschedule_makes_it_a_draft_again(self, alice_client: Client, mailing: Mailing):
        put_in(mailing, MailingStatus.SCHEDULED)
        told = press(alice_client, mailing, "unschedule")
        assert [str(m) for m in told] == [
            "The mailing is no longer scheduled: it is a draft again."
        ]
        mailing.refresh_from_db()
        assert (mailing.status, mailing.scheduled_at) == (MailingStatus.DRAFT, None)
        assert buttons(alice_client, mailing) == {"send", "schedule"}

    def test_the_scheduled_start_then_leaves_it_alone(self, mailing: Mailing, bob: Person):
        do_unschedule_send(put_in(mailing, MailingStatus.SCHEDULED))
        assert start_scheduled_mailing.call(mailing.pk) == "not scheduled"
        assert Mailing.objects.get(pk=mailing.pk).status == MailingStatus.DRAFT

    def test_unschedule_refuses_a_draft_with_a_message(
        self, alice_client: Client, mailing: Mailing
    ):
        told = press(alice_client, mailing, "unschedule")
        assert [(m.level, str(m)) for m in told] == [
            (constants.ERROR, "This mailing is not scheduled.")
        ]


class TestAudit:
    @pytest.mark.parametrize(
        ("status", "control", "action"),
        [
            (MailingStatus.DRAFT, "send", AuditAction.MAILING_SENT),
            (MailingStatus.DRAFT, "schedule", AuditAction.MAILING_SCHEDULED),
            (MailingStatus.SCHEDULED, "unschedule", AuditAction.MAILING_UNSCHEDULED),
            (MailingStatus.SENDING, "pause", AuditAction.MAILING_PAUSED),
            (MailingStatus.PAUSED, "resume", AuditAction.MAILING_RESUMED),
            (MailingStatus.SENDING, "cancel", AuditAction.MAILING_CANCELLED),
        ],
    )
    def test_each_control_writes_who_did_what_to_which_mailing(
        self,
        alice_client: Client,
        mailing: Mailing,
        status: MailingStatus,
        control: str,
        action: AuditAction,
    ):
        put_in(mailing, status)
        press(alice_client, mailing, control)
        entry = AuditEntry.objects.get()
        assert (entry.action, entry.actor, entry.person) == (action, "staff:alice", None)
        assert entry.subject_hash == ""
        assert entry.details["mailing"] == mailing.pk

    def test_a_refused_action_writes_nothing(self, mailing: Mailing):
        for action in (do_pause_send, do_resume_send, do_cancel_send, do_unschedule_send):
            with pytest.raises(SendError):
                action(mailing)
        assert not AuditEntry.objects.exists()

    def test_the_command_line_names_itself(self, mailing: Mailing):
        put_in(mailing, MailingStatus.SENDING)
        call_command("mailing", "pause", str(mailing.pk), stdout=StringIO())
        assert AuditEntry.objects.get().actor == "cli"
