"""Tracked links: every link in a mailing has a number `t` and a destination we keep."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from groundswell.mailings.models import Mailing
from groundswell.members.models import Person
from groundswell.petitions.models import Petition

USER_AGENT_LENGTH = 300


class LinkKind(models.TextChoices):
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
    petition = models.ForeignKey(
        Petition, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    label = models.CharField(_("link text"), max_length=300, blank=True)

    class Meta:
        ordering = ["mailing", "number"]
        verbose_name = _("tracked link")
        verbose_name_plural = _("tracked links")
        constraints = [
            models.UniqueConstraint(fields=["mailing", "number"], name="link_number_per_mailing")
        ]

    def __str__(self) -> str:
        return f"t={self.number} {self.url}"


class Click(models.Model):
    """Someone followed a tracked link: written in batches by tracking/buffer.py.

    `person` is set only when the link's member token was valid and made for this
    mailing; a forwarded or stripped link is still a click, just nobody's.
    """

    mailing = models.ForeignKey(Mailing, on_delete=models.CASCADE, related_name="+")
    link_number = models.PositiveIntegerField(_("link number (t)"))
    person = models.ForeignKey(
        Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    clicked_at = models.DateTimeField(_("clicked"))
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=USER_AGENT_LENGTH, blank=True)
    # See tracking/machine.py for the rule; empty reason means a person, as far as we know.
    is_machine = models.BooleanField(_("machine click"), default=False)
    machine_reason = models.CharField(_("why machine"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("click")
        verbose_name_plural = _("clicks")
        indexes = [
            models.Index(fields=["mailing", "link_number"], name="click_mailing_link_idx"),
            models.Index(fields=["mailing", "person", "clicked_at"], name="click_person_time_idx"),
        ]

    def __str__(self) -> str:
        return (
            f"mailing {self.mailing_id} t={self.link_number} at {self.clicked_at:%Y-%m-%d %H:%M:%S}"
        )


class Open(models.Model):
    """The open-tracking image was fetched: a lower bound on reading, and inflated
    by mail programs that fetch every image in advance (see docs/reports.md)."""

    mailing = models.ForeignKey(Mailing, on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey(
        Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    opened_at = models.DateTimeField(_("opened"))
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=USER_AGENT_LENGTH, blank=True)

    class Meta:
        verbose_name = _("open")
        verbose_name_plural = _("opens")
        indexes = [models.Index(fields=["mailing", "opened_at"], name="open_mailing_time_idx")]

    def __str__(self) -> str:
        return f"mailing {self.mailing_id} opened at {self.opened_at:%Y-%m-%d %H:%M:%S}"
