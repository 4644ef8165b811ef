"""Transactional emails to members: built here, sent by members.tasks after commit."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage
from django.utils.translation import gettext as _

from groundswell.lib.addresses import mail_address
from groundswell.lib.emails import render_plain_text
from groundswell.members.models import Person

EMAIL_CHANGE_SALT = "groundswell.email-change"
EMAIL_CHANGE_CANCEL_SALT = "groundswell.email-change-cancel"
PROFILE_EDIT_SALT = "groundswell.profile-edit"
PRIVACY_SALT = "groundswell.privacy-request"
EMAIL_CHANGE_MAX_AGE = 2 * 24 * 3600
# The old address may undo a change this long after the request, and again this long
# after the new address confirmed it.
EMAIL_CHANGE_CANCEL_MAX_AGE = 2 * 24 * 3600
PROFILE_EDIT_MAX_AGE = 24 * 3600
PRIVACY_MAX_AGE = 24 * 3600
RENEWAL_SALT = "groundswell.consent-renewal"
RENEWAL_MAX_AGE = 30 * 24 * 3600


def person_stamp(person: Person) -> str:
    """Changes whenever the person does (their address, any saved detail): a link
    that carries it works until the person next changes, so it is used up by its use."""
    state = f"{person.pk}|{person.email_normalised}|{person.updated_at.isoformat()}"
    return hashlib.sha256(state.encode()).hexdigest()[:16]


def profile_edit_link(person: Person) -> str:
    """The page where the person changes their details and address: sent to the address
    on file, since a member link travels in forwarded emails."""
    value = signing.dumps({"p": person.pk, "s": person_stamp(person)}, salt=PROFILE_EDIT_SALT)
    return f"{settings.BASE_URL}/profile/edit/{value}/"


def email_change_link(person: Person, new_email: str) -> str:
    value = signing.dumps(
        {"p": person.pk, "e": new_email, "s": person_stamp(person)}, salt=EMAIL_CHANGE_SALT
    )
    return f"{settings.BASE_URL}/profile/confirm-email/{value}/"


def email_change_cancel_link(person_id: int, old_email: str, new_email: str) -> str:
    value = signing.dumps(
        {"p": person_id, "o": old_email, "e": new_email}, salt=EMAIL_CHANGE_CANCEL_SALT
    )
    return f"{settings.BASE_URL}/profile/cancel-email/{value}/"


def privacy_link(person_id: int, kind: str) -> str:
    value = signing.dumps({"p": person_id, "k": kind}, salt=PRIVACY_SALT)
    return f"{settings.BASE_URL}/privacy/confirm/{value}/"


def renewal_link(person_id: int, list_ids: list[int]) -> str:
    """The button of "hear from <organisation> again?": these lists, this person."""
    value = signing.dumps({"p": person_id, "l": list_ids}, salt=RENEWAL_SALT)
    return f"{settings.BASE_URL}/welcome-back/{value}/"


def build_member_email(kind: str, to: str, context: dict[str, str]) -> EmailMessage:
    subjects = {
        "email-change-confirm": _("Confirm your new email address"),
        "email-change-notice": _("Your email address is being changed"),
        "email-change-done": _("Your email address was changed"),
        "profile-edit": _("Change your details"),
        "privacy-export-wait": _("Your request for a copy of your data"),
        "privacy-export": _("Your request for a copy of your data"),
        "privacy-erase": _("Your request to erase your data"),
        "consent-renewal": _("Do you want to hear from %(organisation)s again?")
        % {"organisation": context.get("organisation", "")},
    }
    body = render_plain_text(f"members/email/{kind}.txt", context)
    return EmailMessage(subject=subjects[kind], body=body, to=[mail_address(to)])
