"""Bounce and complaint reports arriving as email: what they change for the member."""

from __future__ import annotations

import mailbox
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError

from groundswell.bounces.actions import do_process_report_message
from groundswell.bounces.models import BounceEvent, BounceKind
from groundswell.lib.tokens import email_hash
from groundswell.members.actions.suppression import is_suppressed
from groundswell.members.models import ConsentEvent, Subscription, SubscriptionStatus, Suppression
from tests.bounces.cast import (
    BOB,
    FRANK,
    mail_member,
    make_campaign,
    make_member,
    sample,
    send_copy,
)

GROUNDSWELL = str(Path(sys.executable).with_name("groundswell"))


@pytest.fixture
def campaign(db):
    return make_campaign()


def statuses(person):
    return sorted(
        (s.mailing_list.slug, s.status) for s in person.subscriptions.select_related("mailing_list")
    )


class TestHardBounce:
    def test_it_marks_the_copy_and_every_subscription_bounced(self, campaign):
        bob, copy = mail_member(campaign, BOB, campaign.supporters, campaign.volunteers)

        [outcome] = do_process_report_message(sample("postfix-hard-bounce.eml"))

        assert outcome.matched == "recipient"
        copy.refresh_from_db()
        assert copy.bounced_at is not None
        assert copy.complained_at is None
        assert statuses(bob) == [("supporters", "bounced"), ("volunteers", "bounced")]
        assert is_suppressed(bob.email_normalised)
        assert Suppression.objects.get().reason == "bounced"
        events = ConsentEvent.objects.filter(kind="bounced")
        assert events.count() == 2
        assert {e.source for e in events} == {"dsn"}
        event = BounceEvent.objects.get()
        assert (event.kind, event.recipient, event.status) == ("hard", copy, "5.1.1")

    def test_it_matches_a_message_id_stored_without_angle_brackets(self, campaign):
        carol = make_member(campaign, "carol.fenn@moor.example.org")
        copy = send_copy(campaign, carol, "12.3402.p0Zx7RwYtc@act.example.org")

        do_process_report_message(sample("exim-headers-only.eml"))

        copy.refresh_from_db()
        assert copy.bounced_at is not None
        assert statuses(carol) == [("supporters", "bounced")]

    def test_the_message_id_wins_over_the_address_in_the_report(self, campaign):
        # Forwarding: the report names the address the mail was forwarded to.
        bob = make_member(campaign, "bob@example.org")
        copy = send_copy(campaign, bob, "<12.3401.Qm8vT2xLrA@act.example.org>")
        stranger = make_member(campaign, "bob.marsh@wetlands.example.com")
        send_copy(campaign, stranger, "<other@act.example.org>")

        do_process_report_message(sample("postfix-hard-bounce.eml"))

        copy.refresh_from_db()
        assert copy.bounced_at is not None
        assert statuses(bob) == [("supporters", "bounced")]
        assert statuses(stranger) == [("supporters", "subscribed")]

    def test_without_a_message_id_an_address_alone_changes_nothing(self, campaign):
        # Even for someone we mailed: a report must answer a message of ours
        # (tests/bounces/test_forged_reports.py).
        erin = make_member(campaign, "erin.stone@quarry.example.org")
        send_copy(campaign, erin, "<12.77.x@act.example.org>")

        [outcome] = do_process_report_message(sample("hard-bounce-no-original.eml"))

        assert outcome.matched == ""
        assert statuses(erin) == [("supporters", "subscribed")]

    def test_an_address_we_never_mailed_is_recorded_but_not_changed(self, campaign):
        # Anyone can write to the bounce address; a forged report must not be enough
        # to take a member we have not mailed off our lists.
        erin = make_member(campaign, "erin.stone@quarry.example.org")

        [outcome] = do_process_report_message(sample("hard-bounce-no-original.eml"))

        assert outcome.matched == ""
        assert statuses(erin) == [("supporters", "subscribed")]
        assert not is_suppressed(erin.email_normalised)
        assert BounceEvent.objects.get().person is None

    def test_the_same_bounce_twice_adds_no_consent_events(self, campaign):
        mail_member(campaign, BOB)

        do_process_report_message(sample("postfix-hard-bounce.eml"))
        do_process_report_message(sample("postfix-hard-bounce.eml"))

        assert ConsentEvent.objects.filter(kind="bounced").count() == 1
        assert BounceEvent.objects.count() == 2

    def test_a_bounce_for_an_erased_person_marks_only_the_copy(self, campaign):
        from groundswell.members.actions.privacy import do_erase_person

        bob, copy = mail_member(campaign, BOB)
        do_erase_person(bob, actor="alice")

        [outcome] = do_process_report_message(sample("postfix-hard-bounce.eml"))

        copy.refresh_from_db()
        assert copy.bounced_at is not None
        assert outcome.matched == "recipient"


class TestSoftBounce:
    def test_it_is_recorded_and_changes_nothing(self, campaign):
        dan = make_member(campaign, "dan.reed@fen.example.org")
        copy = send_copy(campaign, dan, "<12.3403.Zz81nNq4Lk@act.example.org>")

        [outcome] = do_process_report_message(sample("delayed.eml"))

        assert outcome.kind == BounceKind.SOFT
        copy.refresh_from_db()
        assert copy.bounced_at is None
        assert statuses(dan) == [("supporters", "subscribed")]
        assert not is_suppressed(dan.email_normalised)
        event = BounceEvent.objects.get()
        assert (event.kind, event.recipient, event.status) == ("soft", copy, "4.2.2")


class TestComplaint:
    def test_it_unsubscribes_from_everything_and_suppresses(self, campaign):
        frank, copy = mail_member(campaign, FRANK, campaign.supporters, campaign.volunteers)

        [outcome] = do_process_report_message(sample("arf-abuse.eml"))

        assert outcome.kind == BounceKind.COMPLAINT
        copy.refresh_from_db()
        assert copy.complained_at is not None
        assert statuses(frank) == [("supporters", "complained"), ("volunteers", "complained")]
        assert Suppression.objects.get(email_hash=email_hash(frank.email_normalised)).reason == (
            "complained"
        )
        assert ConsentEvent.objects.filter(kind="complained", source="arf").count() == 2

    def test_a_complaint_after_a_bounce_still_marks_complained(self, campaign):
        frank, _ = mail_member(campaign, FRANK)
        from groundswell.members.actions.consent import do_mark_bounced

        do_mark_bounced(frank, source="test")
        do_process_report_message(sample("arf-abuse.eml"))

        assert statuses(frank) == [("supporters", "complained")]

    def test_fresh_consent_after_a_complaint_subscribes_again(self, campaign):
        frank, _ = mail_member(campaign, FRANK)
        do_process_report_message(sample("arf-abuse.eml"))

        make_member(campaign, "frank.moss@mailbox.example.com")

        assert statuses(frank) == [("supporters", "subscribed")]
        assert not is_suppressed(frank.email_normalised)


class TestMarkBounced:
    def test_a_later_bounce_leaves_a_complaint_in_place(self, campaign):
        from groundswell.members.actions.consent import do_mark_bounced, do_mark_complained

        frank = make_member(
            campaign, "frank.moss@mailbox.example.com", campaign.supporters, campaign.volunteers
        )
        do_mark_complained(frank, source="arf")
        do_subscribe_again = make_member(campaign, "frank.moss@mailbox.example.com")

        do_mark_bounced(do_subscribe_again, source="dsn", ip="192.0.2.1")

        assert statuses(frank) == [("supporters", "bounced"), ("volunteers", "complained")]
        assert ConsentEvent.objects.get(kind="bounced").ip_address == "192.0.2.1"


class TestNotAReport:
    def test_an_auto_reply_changes_nothing(self, campaign):
        bob, _ = mail_member(campaign, BOB)

        assert do_process_report_message(sample("out-of-office.eml")) == []

        assert statuses(bob) == [("supporters", "subscribed")]
        assert BounceEvent.objects.count() == 0


class TestProcessBouncesCommand:
    def test_it_reads_a_maildir_and_deletes_what_it_handled(self, campaign, tmp_path):
        bob, _ = mail_member(campaign, BOB)
        frank, _ = mail_member(campaign, FRANK)
        box = mailbox.Maildir(tmp_path / "bounces", create=True)
        for name in ("postfix-hard-bounce.eml", "arf-abuse.eml", "out-of-office.eml"):
            box.add(sample(name))
        out = StringIO()

        call_command(
            "process_bounces", "--maildir", str(tmp_path / "bounces"), "--delete", stdout=out
        )

        assert statuses(bob) == [("supporters", "bounced")]
        assert statuses(frank) == [("supporters", "complained")]
        assert "Read 3 messages" in out.getvalue()
        assert "hard (recipient) 1" in out.getvalue()
        assert len(mailbox.Maildir(tmp_path / "bounces", create=False)) == 0

    def test_it_reads_an_mbox_and_keeps_it_without_delete(self, campaign, tmp_path):
        carol = make_member(campaign, "carol.fenn@moor.example.org")
        send_copy(campaign, carol, "<12.3402.p0Zx7RwYtc@act.example.org>")
        box = mailbox.mbox(tmp_path / "bounces.mbox", create=True)
        box.add(sample("exim-headers-only.eml"))
        box.add(sample("delayed.eml"))
        box.flush()
        out = StringIO()

        call_command("process_bounces", "--mbox", str(tmp_path / "bounces.mbox"), stdout=out)

        assert statuses(carol) == [("supporters", "bounced")]
        assert "Read 2 messages" in out.getvalue()
        assert len(mailbox.mbox(tmp_path / "bounces.mbox", create=False)) == 2

    def test_it_counts_one_message_as_one(self, campaign, monkeypatch):
        mail_member(campaign, BOB)
        monkeypatch.setattr(sys, "stdin", _Stdin(sample("postfix-hard-bounce.eml")))
        out = StringIO()

        call_command("process_bounces", "-", stdout=out)

        assert out.getvalue().startswith("Read 1 message: ")

    def test_a_missing_maildir_is_an_error(self, db, tmp_path):
        with pytest.raises(CommandError, match="No mailbox"):
            call_command("process_bounces", "--maildir", str(tmp_path / "nowhere"))

    def test_it_reads_an_mbox_on_stdin(self, campaign, monkeypatch):
        bob, _ = mail_member(campaign, BOB)
        stream = (
            b"From MAILER-DAEMON Tue May 14 09:12:44 2024\n"
            + sample("postfix-hard-bounce.eml")
            + b"\nFrom bob Tue May 14 09:00:00 2024\n"
            + sample("out-of-office.eml")
        )
        monkeypatch.setattr(sys, "stdin", _Stdin(stream))
        out = StringIO()

        call_command("process_bounces", "-", stdout=out)

        assert "Read 2 messages" in out.getvalue()
        assert statuses(bob) == [("supporters", "bounced")]


class _Stdin:
    def __init__(self, data: bytes) -> None:
        import io

        self.buffer = io.BytesIO(data)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
class TestProcessBounceOverAPipe:
    """The MTA runs `groundswell process_bounce` with the message on stdin."""

    def run(self, raw: bytes, **env: str) -> subprocess.CompletedProcess:
        import os

        from django.conf import settings

        # The test database, whichever engine the tests run on.
        database = settings.DATABASES["default"]
        if database["ENGINE"].endswith("sqlite3"):
            url = f"sqlite://{database['NAME']}"
        else:
            url = (
                f"postgres://{database['USER']}:{database['PASSWORD']}@{database['HOST']}:"
                f"{database['PORT'] or 5432}/{database['NAME']}"
            )
        environment = {**os.environ, "DATABASE_URL": url, **env}
        return subprocess.run(
            [GROUNDSWELL, "process_bounce"],
            input=raw,
            capture_output=True,
            timeout=60,
            env=environment,
        )

    def test_a_hard_bounce_piped_in_marks_the_member(self):
        campaign = make_campaign()
        bob, _ = mail_member(campaign, BOB)

        result = self.run(sample("postfix-hard-bounce.eml"))

        assert result.returncode == 0, result.stderr.decode()
        assert b"hard: recipient" in result.stdout
        assert Subscription.objects.get(person=bob).status == SubscriptionStatus.BOUNCED

    def test_a_message_that_is_not_a_report_is_accepted_and_ignored(self):
        result = self.run(b"\x00\xffnot an email at all")
        assert result.returncode == 0, result.stderr.decode()
        assert BounceEvent.objects.count() == 0

    def test_it_asks_the_mta_to_retry_when_it_cannot_record(self, tmp_path):
        result = self.run(
            sample("postfix-hard-bounce.eml"),
            DATABASE_URL=f"sqlite://{tmp_path}/missing-dir/db.sqlite3",
        )
        assert result.returncode == 75, result.stderr.decode()


def test_no_staff_mail_for_soft_bounces(campaign):
    dan = make_member(campaign, "dan.reed@fen.example.org")
    send_copy(campaign, dan, "<12.3403.Zz81nNq4Lk@act.example.org>")
    do_process_report_message(sample("delayed.eml"))
    assert mail.outbox == []
