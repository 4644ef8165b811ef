"""Transactional emails to members: built here, sent by members.tasks after commit."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage
from django.utils.translation import gettext as _

from groundswell.lib.emails import render_plain_text

EMAIL_CHANGE_SALT = "groundswell.email-change"
PRIVACY_SALT = "groundswell.privacy-request"
EMAIL_CHANGE_MAX_AGE = 3 * 24 * 3600
PRIVACY_MAX_AGE = 24 * 3600
RENEWAL_SALT = "groundswell.consent-renewal"
RENEWAL_MAX_AGE = 30 * 24 * 3600


def email_change_link(person_id: int, new_email: str) -> str:
    value = signing.dumps({"p": person_id, "e": new_email}, salt=EMAIL_CHANGE_SALT)
    return f"{settings.BASE_URL}/profile/confirm-email/{value}/"


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
        "privacy-export": _("Your request for a copy of your data"),
        "privacy-erase": _("Your request to erase your data"),
        "consent-renewal": _("Do you want to hear from %(organisation)s again?")
        % {"organisation": context.get("organisation", "")},
    }
    body = render_plain_text(f"members/email/{kind}.txt", context)
    return EmailMessage(subject=subjects[kind], body=body, to=[to])
