"""At demo start: a test copy of the demo mailing waits in the mailbox.

It is what the staff page's "Test send" makes (the same action): a [TEST] copy to the
demo's staff address, rendered as the first member on the sending organisation's list,
so its links are that member's own (the petition greets them; unsubscribe unsubscribes
them). The demo runs this in a process of its own once the mail catcher listens, with
the demo's settings, so the links and the mail server are this run's ports:

    python -m groundswell.demo.mailbox_copy

A copy already in the mailbox (from an earlier start) is kept, and no other is sent.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

from groundswell.demo import content

SCRIPT = "groundswell.demo.mailbox_copy"


@dataclass(frozen=True)
class MailboxCopy:
    subject: str
    to: str
    member: str
    sent_now: bool

    def describe(self) -> str:
        if self.sent_now:
            return (
                f"Mailbox: a test copy of the demo mailing “{self.subject}” to {self.to}, "
                f"as its member {self.member} gets it."
            )
        return f"Mailbox: the test copy of the demo mailing to {self.to} is there already."


def ensure_mailbox_copy() -> MailboxCopy | None:
    """Send the copy unless one is in the mailbox; None when the demo has no mailing."""
    from django.contrib.auth import get_user_model

    from groundswell.demo.staff import STAFF_USERNAME
    from groundswell.mailings.actions.compose import do_send_test
    from groundswell.mailings.models import Mailing
    from groundswell.members.models import Person, SubscriptionStatus

    demo = content.CAMPAIGN_B_MAILING
    mailing = (
        Mailing.objects.filter(
            organisation__slug=demo.organisation_slug, petition__slug=demo.petition_slug
        )
        .order_by("pk")
        .first()
    )
    staff = get_user_model().objects.filter(username=STAFF_USERNAME).first()
    if mailing is None or staff is None or not staff.email:
        return None
    member = (
        Person.objects.filter(
            subscriptions__mailing_list__in=mailing.include_lists.all(),
            subscriptions__status=SubscriptionStatus.SUBSCRIBED,
        )
        .order_by("pk")
        .first()
    )
    if member is None:
        return None
    name = f"{member.first_name} {member.last_name} <{member.email}>".strip()
    if has_test_copy(mailing.pk, staff.email):
        return MailboxCopy(mailing.subject, staff.email, name, sent_now=False)
    do_send_test(mailing, [staff.email], person=member, by=staff)
    return MailboxCopy(mailing.subject, staff.email, name, sent_now=True)


def has_test_copy(mailing_id: int, address: str) -> bool:
    """Whether the mailbox holds a member's test copy of this mailing sent to `address`.

    Test copies as a member carry a Message-ID that starts with <mailing id.test.
    """
    from groundswell.mailbox import store

    prefix = f"<{mailing_id}.test."
    for name in store.message_names():
        headers = store.read_headers(name)
        if str(headers.get("Message-ID", "")).startswith(prefix) and address.lower() in str(
            headers.get("X-Envelope-To", "")
        ).lower().split(", "):
            return True
    return False


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "groundswell.settings")
    import django

    django.setup()
    try:
        copy = ensure_mailbox_copy()
    except OSError as error:
        print(f"Mailbox: the demo mailing's test copy was not sent: {error}", file=sys.stderr)
        return 1
    if copy is not None:
        print(copy.describe(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
