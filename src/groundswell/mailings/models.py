"""Mailings: what staff write, who it goes to, and each recipient's delivery state."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from groundswell.lib.fields import optional_link, time_added, time_last_saved
from groundswell.members.models import Person
from groundswell.orgs.access import Permission, organisation_ids
from groundswell.orgs.models import MailingList, Organisation
from groundswell.petitions.models import Petition


class AbMetric(models.TextChoices):
    CLICKS = "clicks", _("unique clicks")
    ACTIONS = "actions", _("actions (signatures)")


class MailingStatus(models.TextChoices):
    """Where a mailing stands, from draft to sent; Mailing.can_*() say which moves each
    state allows."""

    DRAFT = "draft", _("draft")
    SCHEDULED = "scheduled", _("scheduled")
    # Freezing its recipients, a batch per commit: nothing is claimed until that is done.
    PREPARING = "preparing", _("preparing recipients")
    SENDING = "sending", _("sending")
    PAUSED = "paused", _("paused")
    SENT = "sent", _("sent")
    CANCELLED = "cancelled", _("cancelled")


class MailingQuerySet(models.QuerySet["Mailing"]):
    def visible_to(self, user: Any, permission: Permission = Permission.FIGURES) -> MailingQuerySet:
        """Mailings of the organisations where this staff user has this permission."""
        return self.filter(organisation_id__in=organisation_ids(user, permission))


class Mailing(models.Model):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="mailings"
    )
    from_name = models.CharField(_("from name"), max_length=200)
    from_email = models.EmailField(_("from address"))
    reply_to = models.EmailField(_("reply-to address"), blank=True)
    subject = models.CharField(_("subject"), max_length=250)
    subject_b = models.CharField(
        _("subject B"),
        max_length=250,
        blank=True,
        help_text=_("Optional: a second subject to test against the first."),
    )
    preheader = models.CharField(
        _("preheader"),
        max_length=250,
        blank=True,
        help_text=_("The preview line mail programs show under the subject."),
    )
    body = models.TextField(
        _("body"),
        help_text=_('Markdown with merge fields such as {{ first_name|default:"friend" }}.'),
    )
    petition = optional_link(
        Petition,
        on_delete=models.PROTECT,
        related_name="mailings",
        help_text=_("The petition this mailing asks people to sign (for share links)."),
    )
    signoff_name = models.CharField(_("signed by"), max_length=200, blank=True)
    signoff_title = models.CharField(_("their title"), max_length=200, blank=True)
    signoff_organisation = models.CharField(_("their organisation"), max_length=200, blank=True)

    # Targeting: who the mailing goes to, fixed when the send starts.
    include_lists = models.ManyToManyField(
        MailingList, related_name="+", verbose_name=_("send to lists")
    )
    exclude_lists = models.ManyToManyField(
        MailingList, related_name="+", blank=True, verbose_name=_("but not to lists")
    )
    exclude_signers_of = models.ManyToManyField(
        Petition, related_name="+", blank=True, verbose_name=_("leave out signers of")
    )
    only_signers_of = optional_link(
        Petition, on_delete=models.PROTECT, related_name="+", verbose_name=_("only signers of")
    )
    countries = models.CharField(
        _("only in countries"), max_length=200, blank=True, help_text=_("ISO codes, e.g. GB, US.")
    )
    postal_code_prefix = models.CharField(
        _("postal codes starting with"), max_length=20, blank=True
    )

    # A/B subjects: each variant goes to a sample, the winner to the rest.
    ab_sample_percent = models.PositiveSmallIntegerField(_("sample per variant (%)"), default=10)
    ab_metric = models.CharField(
        _("winner chosen by"), max_length=10, choices=AbMetric.choices, default=AbMetric.CLICKS
    )
    ab_wait_minutes = models.PositiveIntegerField(_("wait before choosing (minutes)"), default=120)
    ab_winner = models.CharField(_("winning subject"), max_length=1, blank=True)
    # Set once both samples have gone: the winner is chosen at this time.
    ab_decide_at = models.DateTimeField(_("winner chosen at"), null=True, blank=True)

    rate_limit = models.PositiveIntegerField(
        _("messages per second"), null=True, blank=True, help_text=_("Empty: as fast as we can.")
    )
    status = models.CharField(
        _("status"), max_length=12, choices=MailingStatus.choices, default=MailingStatus.DRAFT
    )
    scheduled_at = models.DateTimeField(_("send at"), null=True, blank=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    recipient_count = models.PositiveIntegerField(_("recipients"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = time_added(_("created"))
    updated_at = time_last_saved(_("updated"))

    objects = MailingQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("mailing")
        verbose_name_plural = _("mailings")
        indexes = [models.Index(fields=["status", "scheduled_at"], name="mailing_due_idx")]

    def __str__(self) -> str:
        return self.subject

    # What can be done to the send now. The staff page shows a button only when its
    # question says yes, and the action refuses whenever it says no: both ask here.

    def can_start(self) -> bool:
        return self.status in (MailingStatus.DRAFT, MailingStatus.SCHEDULED)

    def can_unschedule(self) -> bool:
        return self.status == MailingStatus.SCHEDULED

    def can_pause(self) -> bool:
        return self.status == MailingStatus.SENDING

    def can_resume(self) -> bool:
        return self.status == MailingStatus.PAUSED

    def can_cancel(self) -> bool:
        return self.status in (
            MailingStatus.SCHEDULED,
            MailingStatus.PREPARING,
            MailingStatus.SENDING,
            MailingStatus.PAUSED,
        )


class RecipientState(models.TextChoices):
    """Where one recipient's copy stands in the send. UNKNOWN says honestly what a crash
    left: the worker died while handing it over, and staff decide (unknown_views.py)."""

    QUEUED = "queued", _("queued")
    # Taken by a worker in a batch, not yet handed to the mail server.
    CLAIMED = "claimed", _("claimed by a worker")
    # In a worker's window: being handed to the mail server now or in a moment; its
    # journal says which (see lanes.py).
    SENDING = "sending", _("sending")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed")
    # Handed to the mail server when a worker died: we cannot know whether it went.
    UNKNOWN = "unknown", _("unknown (worker stopped mid-send)")
    CANCELLED = "cancelled", _("cancelled")


class MailingRecipient(models.Model):
    """One person's copy of a mailing, frozen when the send starts."""

    mailing = models.ForeignKey(Mailing, on_delete=models.CASCADE, related_name="recipients")
    # Empty once the person is erased; the row stays so the mailing's totals stay right.
    person = optional_link(Person, related_name="mailings_received")
    email = models.CharField(_("address"), max_length=254)
    variant = models.CharField(_("subject variant"), max_length=1, blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=RecipientState.choices, default=RecipientState.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    claimed_by = models.CharField(_("worker"), max_length=64, blank=True)
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    smtp_response = models.CharField(_("mail server's answer"), max_length=500, blank=True)
    message_id = models.CharField(_("Message-ID"), max_length=200, blank=True)
    bounced_at = models.DateTimeField(_("bounced"), null=True, blank=True)
    complained_at = models.DateTimeField(_("complained"), null=True, blank=True)
    unsubscribed_at = models.DateTimeField(_("unsubscribed"), null=True, blank=True)

    class Meta:
        verbose_name = _("recipient")
        verbose_name_plural = _("recipients")
        constraints = [
            models.UniqueConstraint(fields=["mailing", "person"], name="one_copy_per_person")
        ]
        indexes = [
            models.Index(fields=["mailing", "state", "id"], name="recipient_claim_idx"),
            models.Index(fields=["message_id"], name="recipient_message_id_idx"),
            models.Index(fields=["claimed_by", "state"], name="recipient_worker_idx"),
            models.Index(fields=["mailing", "sent_at"], name="recipient_sent_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.email}: {self.state}"


class SendWorker(models.Model):
    """A process sending a mailing (or freezing its recipients), seen alive at `heartbeat_at`.

    Recipients it claimed carry its `worker_id`. When it stops without cleaning up
    (killed, machine lost), another worker finds it dead (on this host: its journal's
    lock is free, or it had none and its process is gone; elsewhere: heartbeat too old)
    and recovers its recipients: see recovery.py. A freeze left without its worker is
    carried on by the watchdog.
    """

    worker_id = models.CharField(_("worker"), max_length=64, unique=True)
    hostname = models.CharField(_("host"), max_length=200)
    pid = models.PositiveIntegerField(_("process id"))
    mailing = optional_link(Mailing, on_delete=models.CASCADE, related_name="send_workers")
    started_at = models.DateTimeField(_("started"))
    heartbeat_at = models.DateTimeField(_("last seen"), db_index=True)

    class Meta:
        verbose_name = _("sending worker")
        verbose_name_plural = _("sending workers")

    def __str__(self) -> str:
        return self.worker_id


class LinkKind(models.TextChoices):
    """What a tracked link leads to: a petition, another page, or one of the links every
    mailing carries (share, profile, subscriptions, web version)."""

    PETITION = "petition", _("petition page")
    EXTERNAL = "external", _("other page")
    SHARE = "share", _("share link")
    PROFILE = "profile", _("change email or address")
    SUBSCRIPTIONS = "subscriptions", _("manage subscriptions")
    WEB_VERSION = "web-version", _("view in browser")


class TrackedLink(models.Model):
    """A numbered link within one mailing.

    /go/<mailing>/<number>/ redirects to `url` as stored here, never to an address
    taken from the request: the tracker cannot be used as an open redirect.
    """

    mailing = models.ForeignKey(Mailing, on_delete=models.CASCADE, related_name="links")
    number = models.PositiveIntegerField(_("number (t)"))
    kind = models.CharField(_("kind"), max_length=20, choices=LinkKind.choices)
    url = models.URLField(_("destination"), max_length=2000)
    petition = optional_link(Petition, related_name="+")
    label = models.CharField(_("link text"), max_length=300, blank=True)

    class Meta:
        # Created by the tracking app, which owned it before; the table kept its name.
        db_table = "tracking_trackedlink"
        ordering = ["mailing", "number"]
        verbose_name = _("tracked link")
        verbose_name_plural = _("tracked links")
        constraints = [
            models.UniqueConstraint(fields=["mailing", "number"], name="link_number_per_mailing")
        ]

    def __str__(self) -> str:
        return f"t={self.number} {self.url}"
