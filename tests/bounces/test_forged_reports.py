"""Anyone can write to the bounce address: a report acts only on the copy whose
Message-ID it carries, so a forged one cannot take members off the lists in bulk."""

from __future__ import annotations

import pytest

from groundswell.bounces.actions import MAX_REPORTS_PER_MESSAGE, do_process_report_message
from groundswell.bounces.models import BounceEvent
from groundswell.members.actions.suppression import is_suppressed
from tests.bounces.cast import make_campaign, make_member, send_copy


@pytest.fixture
def campaign(db):
    return make_campaign()


def forged_dsn(addresses: list[str], message_id: str = "") -> bytes:
    blocks = "".join(
        f"Final-Recipient: rfc822; {address}\nAction: failed\nStatus: 5.1.1\n\n"
        for address in addresses
    )
    original = (
        f"--b\nContent-Type: text/rfc822-headers\n\nMessage-ID: {message_id}\n\n"
        if message_id
        else ""
    )
    return (
        "From: postmaster@forger.example.net\nTo: bounces@act.example.org\n"
        "Subject: Undelivered\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n'
        "--b\nContent-Type: text/plain\n\nThey all failed.\n\n"
        "--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; forger\n\n"
        f"{blocks}{original}--b--\n"
    ).encode()


def forged_complaint(address: str) -> bytes:
    return (
        "From: abuse@forger.example.net\nTo: bounces@act.example.org\nSubject: Abuse\n"
        "MIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=feedback-report; boundary="b"\n\n'
        "--b\nContent-Type: text/plain\n\nSpam.\n\n"
        "--b\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\n"
        f"User-Agent: forger/1\nVersion: 1\nOriginal-Rcpt-To: {address}\n\n--b--\n"
    ).encode()


class TestForgedReports:
    def test_a_report_naming_addresses_we_mailed_without_our_message_id_changes_nobody(
        self, campaign
    ) -> None:
        members = [make_member(campaign, f"member{i}@example.org") for i in range(3)]
        for i, member in enumerate(members):
            send_copy(campaign, member, f"<12.{i}.secret{i}@act.example.org>")

        outcomes = do_process_report_message(forged_dsn([m.email for m in members]))
        do_process_report_message(forged_complaint(members[0].email))

        assert [o.matched for o in outcomes] == ["", "", ""]
        for member in members:
            assert [s.status for s in member.subscriptions.all()] == ["subscribed"]
            assert not is_suppressed(member.email_normalised)

    def test_a_report_with_one_real_message_id_reaches_only_that_copys_recipient(
        self, campaign
    ) -> None:
        bob = make_member(campaign, "bob@example.org")
        send_copy(campaign, bob, "<12.1.bobsecret@act.example.org>")
        others = [make_member(campaign, f"member{i}@example.org") for i in range(20)]
        for i, member in enumerate(others):
            send_copy(campaign, member, f"<12.{i + 2}.secret{i}@act.example.org>")

        outcomes = do_process_report_message(
            forged_dsn([m.email for m in others], message_id="<12.1.bobsecret@act.example.org>")
        )

        assert len(outcomes) == MAX_REPORTS_PER_MESSAGE
        assert BounceEvent.objects.count() == MAX_REPORTS_PER_MESSAGE
        assert [s.status for s in bob.subscriptions.all()] == ["bounced"]
        for member in others:
            assert [s.status for s in member.subscriptions.all()] == ["subscribed"]
