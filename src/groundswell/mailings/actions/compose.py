"""Composing a mailing: create, edit, send a test copy."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from ..models import Mailing, MailingRecipient, MailingStatus
from .send import locked

logger = logging.getLogger(__name__)


COMPOSE_M2M = ("include_lists", "exclude_lists", "exclude_signers_of")
MAX_TEST_ADDRESSES = 10


class ComposeError(ValueError):
    """A compose action that cannot be done, with a message staff can act on."""


def _fill_sender(mailing: Mailing) -> None:
    org = mailing.organisation
    mailing.from_name = mailing.from_name or org.sender_name or org.name
    mailing.from_email = mailing.from_email or org.sender_email


def _set_compose_fields(mailing: Mailing, fields: dict[str, Any]) -> dict[str, Any]:
    many = {name: fields.pop(name) for name in COMPOSE_M2M if name in fields}
    for name, value in fields.items():
        setattr(mailing, name, value)
    _fill_sender(mailing)
    return many


def do_create_mailing(*, by: Any = None, **fields: Any) -> Mailing:
    """A new draft. `fields` are Mailing fields; lists and petitions may be given as sets."""
    with transaction.atomic():
        mailing = Mailing(status=MailingStatus.DRAFT)
        many = _set_compose_fields(mailing, dict(fields))
        if by is not None and getattr(by, "is_authenticated", False):
            mailing.created_by = by
        mailing.save()
        for name, value in many.items():
            getattr(mailing, name).set(value)
        logger.info("Mailing %s drafted by %s", mailing.pk, getattr(by, "username", "system"))
    return mailing


def do_update_mailing(mailing: Mailing, *, by: Any = None, **fields: Any) -> Mailing:
    """Change a draft. Once scheduled or sending, what readers get is fixed."""
    with transaction.atomic():
        mailing = locked(mailing)
        if mailing.status != MailingStatus.DRAFT:
            raise ComposeError(
                _("Only a draft can be changed; this mailing is %(status)s.")
                % {"status": mailing.get_status_display()}
            )
        many = _set_compose_fields(mailing, dict(fields))
        mailing.save()
        for name, value in many.items():
            getattr(mailing, name).set(value)
        logger.info("Mailing %s changed by %s", mailing.pk, getattr(by, "username", "system"))
    return mailing


def do_send_test(
    mailing: Mailing, addresses: list[str], *, person: Any = None, by: Any = None
) -> int:
    """Send a [TEST] copy to each staff address through Django's mail backend.

    With a person, the copy shows that member's name and details as their own copy
    would, but its links carry PREVIEW_TOKEN, which acts for no one (staff test copies
    get forwarded too); without one, neutral values and no member links. Sent after commit,
    so the tracked links it points at exist when it arrives.
    """
    from django.core.mail import get_connection

    from groundswell.lib.mime import raw_email_message

    from ..rendering import prepare_mailing

    if not addresses:
        raise ComposeError(_("Give at least one address to send the test to."))
    if len(addresses) > MAX_TEST_ADDRESSES:
        raise ComposeError(
            _("A test goes to at most %(count)d addresses.") % {"count": MAX_TEST_ADDRESSES}
        )
    prefix = _("[TEST]") + " "
    with transaction.atomic():
        prepared = prepare_mailing(mailing)
        messages = []
        for address in addresses:
            if person is not None:
                copy = MailingRecipient(mailing=mailing, person=person, email=address, variant="A")
                data = prepared.message_bytes(
                    copy,
                    message_id=prepared.new_message_id("test"),
                    subject_prefix=prefix,
                    preview=True,
                )
            else:
                data = prepared.neutral_message_bytes(address, subject_prefix=prefix)
            messages.append(
                raw_email_message(
                    data,
                    mailing.from_email,
                    [address],
                    prefix + prepared.subject_for("A", person, address),
                )
            )
        logger.info(
            "Test of mailing %s sent to %d addresses by %s",
            mailing.pk,
            len(messages),
            getattr(by, "username", "system"),
        )
        transaction.on_commit(lambda: get_connection().send_messages(messages))
    return len(messages)
