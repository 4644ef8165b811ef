"""At demo start: the demo mailing's copy for one member waits in the mailbox.

The first member on the sending organisation's list gets their own copy, as a send
would deliver it: addressed to them, with their own links (the petition greets them;
unsubscribe unsubscribes them). The demo's mail catcher takes all mail, so it lands in
the staff mailbox. (A staff "Test send" would not do: its links act for no one.) The
demo runs this in a process of its own once the mail catcher listens, with the demo's
settings, so the links and the mail server are this run's ports:

    python -m groundswell.demo.mailbox_copy

A copy already in the mailbox (from an earlier start) is kept, and no other is sent.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Any

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
                f"Mailbox: the demo mailing “{self.subject}” as its member {self.member} "
                "gets it, with their own links."
            )
        return f"Mailbox: {self.member}'s copy of the demo mailing is there already."


def ensure_mailbox_copy() -> MailboxCopy | None:
    """Send the copy unless one is in the mailbox; None when the demo has no mailing."""
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
    if mailing is None:
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
    if has_member_copy(mailing.pk, member.email):
        return MailboxCopy(mailing.subject, member.email, name, sent_now=False)
    deliver_member_copy(mailing, member)
    return MailboxCopy(mailing.subject, member.email, name, sent_now=True)


def deliver_member_copy(mailing: Any, member: Any) -> None:
    """The member's own copy, rendered as the send renders it, to their address. It
    records nothing: no recipient row, so the mailing's figures stay as they were."""
    from django.core.mail import get_connection

    from groundswell.lib.mime import raw_email_message
    from groundswell.mailings.models import MailingRecipient
    from groundswell.mailings.rendering import prepare_mailing

    prepared = prepare_mailing(mailing)
    copy = MailingRecipient(mailing=mailing, person=member, email=member.email, variant="A")
    data = prepared.message_bytes(copy, message_id=prepared.new_message_id(DEMO_COPY))
    subject = prepared.subject_for("A", member, member.email)
    message = raw_email_message(data, mailing.from_email, [member.email], subject)
    get_connection().send_messages([message])


DEMO_COPY = "demo"


def has_member_copy(mailing_id: int, address: str) -> bool:
    """Whether the mailbox holds the demo's copy of this mailing for `address`: its
    Message-ID starts with <mailing id.demo."""
    from groundswell.mailbox import store

    prefix = f"<{mailing_id}.{DEMO_COPY}."
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
        print(f"Mailbox: the demo mailing's member copy was not sent: {error}", file=sys.stderr)
        return 1
    if copy is not None:
        print(copy.describe(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
