from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import models
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from groundswell.lib.fields import optional_link, time_added, time_last_saved
from groundswell.lib.names import validate_name
from groundswell.orgs.access import Permission, is_administrator, organisation_ids
from groundswell.orgs.models import MailingList, Organisation


class PersonQuerySet(models.QuerySet["Person"]):
    def known_to(self, organisations: Iterable[int]) -> PersonQuerySet:
        """People who subscribed at some time to a list of one of these organisations
        (and may since have left it): the only people whose details its staff see."""
        return self.filter(
            Exists(
                Subscription.objects.filter(
                    person=OuterRef("pk"), mailing_list__organisation_id__in=list(organisations)
                )
            )
        )

    def visible_to(self, user: Any) -> PersonQuerySet:
        """The people whose details this staff user may see."""
        if is_administrator(user):
            return self.all()
        return self.known_to(organisation_ids(user, Permission.PEOPLE))


class Person(models.Model):
    """Someone we know by email address. One row per normalised address."""

    email = models.EmailField(_("email"), max_length=254, help_text=_("As the person typed it."))
    email_normalised = models.CharField(
        _("normalised email"),
        max_length=254,
        unique=True,
        help_text=_(
            "Trimmed, lower-cased, international domain encoded: the identity we match on."
        ),
    )
    # lib/names.py's rule for the admin's forms; the public forms and the import
    # apply it themselves.
    first_name = models.CharField(
        _("first name"), max_length=100, blank=True, validators=[validate_name]
    )
    last_name = models.CharField(
        _("last name"), max_length=100, blank=True, validators=[validate_name]
    )
    address = models.TextField(_("mailing address"), blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    country = models.CharField(
        _("country"), max_length=2, blank=True, help_text=_("ISO 3166 code.")
    )
    source = models.CharField(
        _("first source"), max_length=100, blank=True, help_text=_("How we first met them.")
    )
    created_at = time_added(_("created"), db_index=True)
    updated_at = time_last_saved(_("updated"))

    objects = PersonQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("person")
        verbose_name_plural = _("people")
        indexes = [models.Index(fields=["last_name", "first_name"], name="person_name_idx")]

    def __str__(self) -> str:
        full = f"{self.first_name} {self.last_name}".strip()
        return f"{full} <{self.email}>" if full else self.email


class SubscriptionStatus(models.TextChoices):
    SUBSCRIBED = "subscribed", _("subscribed")
    UNSUBSCRIBED = "unsubscribed", _("unsubscribed")
    BOUNCED = "bounced", _("bounced")
    COMPLAINED = "complained", _("complained")


class Subscription(models.Model):
    """A person on an organisation's list. Its status is the latest consent event's."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="subscriptions")
    mailing_list = models.ForeignKey(
        MailingList, on_delete=models.PROTECT, related_name="subscriptions"
    )
    status = models.CharField(_("status"), max_length=20, choices=SubscriptionStatus.choices)
    created_at = time_added(_("created"))
    updated_at = time_last_saved(_("updated"))

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        constraints = [
            models.UniqueConstraint(
                fields=["person", "mailing_list"], name="one_subscription_per_list"
            )
        ]
        indexes = [models.Index(fields=["mailing_list", "status"], name="subscription_list_status")]

    def __str__(self) -> str:
        return f"{self.person} on {self.mailing_list}: {self.status}"

    @property
    def is_subscribed(self) -> bool:
        return self.status == SubscriptionStatus.SUBSCRIBED


class ConsentEvent(models.Model):
    """One change of a subscription, kept for good: the proof of consent.

    Rows are only ever added; saving an existing row or deleting one raises.
    """

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("event"), max_length=20, choices=SubscriptionStatus.choices)
    created_at = time_added(_("time"), db_index=True)
    source = models.CharField(
        _("source"), max_length=200, help_text=_("Where it happened, e.g. petition:slug or admin.")
    )
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    wording = models.TextField(
        _("wording shown"), blank=True, help_text=_("The exact consent text the person saw.")
    )

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("consent event")
        verbose_name_plural = _("consent events")

    def __str__(self) -> str:
        return f"{self.kind} at {self.created_at:%Y-%m-%d %H:%M} ({self.source})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValueError("Consent history is append-only: add a new event instead.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ValueError("Consent history is append-only: it is never deleted.")


class SuppressionReason(models.TextChoices):
    """Why an address may no longer be mailed: the person's own wish, their mail
    server's report, or a member of staff."""

    UNSUBSCRIBED = "unsubscribed", _("unsubscribed from everything")
    COMPLAINED = "complained", _("marked a message as spam")
    BOUNCED = "bounced", _("address does not exist")
    ERASED = "erased", _("asked to be erased")
    STAFF = "staff", _("suppressed by staff")


class Suppression(models.Model):
    """An address we must never mail, kept as a keyed hash (see lib.tokens.email_hash).

    Every send checks it. A fresh consent from the person lifts it.
    """

    email_hash = models.CharField(_("email hash"), max_length=64, unique=True)
    reason = models.CharField(_("reason"), max_length=20, choices=SuppressionReason.choices)
    source = models.CharField(_("source"), max_length=200, blank=True)
    created_at = time_added(_("since"))

    class Meta:
        verbose_name = _("suppressed address")
        verbose_name_plural = _("suppressed addresses")

    def __str__(self) -> str:
        return f"{self.email_hash[:12]}… ({self.reason})"


class AuditAction(models.TextChoices):
    """Every kind of audit entry. An entry not about a person (a mailing paused) leaves
    the person empty and names its object in the details."""

    PROFILE_UPDATED = "profile-updated", _("profile updated")
    EMAIL_CHANGED = "email-changed", _("email address changed")
    EMAIL_CHANGE_CANCELLED = "email-change-cancelled", _("email change cancelled")
    EXPORTED = "exported", _("data exported")
    ERASED = "erased", _("erased")
    REMOVED_IDLE_PEOPLE = "removed-idle-people", _("people without purpose removed")
    PETITION_CREATED = "petition-created", _("petition created")
    PETITION_EDITED = "petition-edited", _("petition edited")
    PETITION_UPDATE_POSTED = "petition-update-posted", _("petition update posted")
    PETITION_OPENED = "petition-opened", _("petition opened")
    PETITION_CLOSED = "petition-closed", _("petition closed")
    PETITION_DRAFTED = "petition-drafted", _("petition returned to draft")
    SIGNATURE_INVALIDATED = "signature-invalidated", _("signature invalidated")
    SIGNATURE_RESTORED = "signature-restored", _("signature restored")
    SIGNATURES_INVALIDATED_IN_BULK = (
        "signatures-invalidated-in-bulk",
        _("signatures invalidated in bulk"),
    )
    SIGNATURES_RESTORED_IN_BULK = "signatures-restored-in-bulk", _("bulk invalidation undone")
    SIGNATURES_IMPORTED = "signatures-imported", _("signatures imported")
    COMMENT_HIDDEN = "comment-hidden", _("comment hidden from the public page")
    COMMENT_SHOWN = "comment-shown", _("comment shown on the public page again")
    SIGNING_SWITCHED_OFF = "signing-switched-off", _("signing switched off")
    SIGNING_SWITCHED_ON = "signing-switched-on", _("signing switched on again")
    MAILING_UNSCHEDULED = "mailing-unscheduled", _("mailing unscheduled")
    MAILING_PAUSED = "mailing-paused", _("mailing paused")
    MAILING_RESUMED = "mailing-resumed", _("mailing resumed")
    MAILING_CANCELLED = "mailing-cancelled", _("mailing cancelled")
    MAILING_UNKNOWN_ASSUMED_SENT = (
        "mailing-unknown-assumed-sent",
        _("unknown recipient assumed sent"),
    )
    MAILING_UNKNOWN_SENT_AGAIN = "mailing-unknown-sent-again", _("unknown recipient sent again")
    MAILING_SENT = "mailing-sent", _("mailing send started")
    MAILING_SCHEDULED = "mailing-scheduled", _("mailing scheduled")
    SIGNATURES_EXPORTED = "signatures-exported", _("signatures exported")
    PEOPLE_EXPORTED = "people-exported", _("people exported")
    PEOPLE_IMPORTED = "people-imported", _("people imported")
    STAFF_SIGNED_IN = "staff-signed-in", _("staff signed in")
    STAFF_SIGN_IN_FAILED = "staff-sign-in-failed", _("staff sign-in failed")
    STAFF_SIGNED_OUT = "staff-signed-out", _("staff signed out")
    STAFF_LOCKED_OUT = "staff-locked-out", _("staff sign-in locked out")
    TWO_FACTOR_CHANGED = "two-factor-changed", _("two-factor sign-in changed")
    ROLE_GRANTED = "role-granted", _("staff role granted")
    ROLE_REMOVED = "role-removed", _("staff role removed")
    SETTING_CHANGED = "setting-changed", _("setting changed")


class AuditEntry(models.Model):
    """What was done to a person's data, by whom: exports, erasures, merges; and what
    staff did to petitions and mailings."""

    action = models.CharField(
        _("action"), max_length=40, db_index=True, choices=AuditAction.choices
    )
    actor = models.CharField(
        _("done by"), max_length=200, help_text=_("A staff username, or 'self' for the person.")
    )
    subject_hash = models.CharField(
        _("person (email hash)"), max_length=64, db_index=True, help_text=_("Survives erasure.")
    )
    person = optional_link(Person, related_name="audit_entries")
    organisation = optional_link(
        Organisation,
        related_name="audit_entries",
        help_text=_("The organisation the action was for, when it was for one."),
    )
    ip_address = models.GenericIPAddressField(_("from address"), null=True, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    created_at = time_added(_("time"), db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")

    def __str__(self) -> str:
        return f"{self.action} by {self.actor} at {self.created_at:%Y-%m-%d %H:%M}"
