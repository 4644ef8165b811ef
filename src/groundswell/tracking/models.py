"""Clicks and opens: who followed a mailing's tracked links (mailings/models.py) and
who fetched its open-tracking image."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from groundswell.lib.fields import optional_link
from groundswell.mailings.models import Mailing
from groundswell.members.models import Person

USER_AGENT_LENGTH = 300


class Click(models.Model):
    """Someone followed a tracked link: written in batches by tracking/buffer.py.

    `person` is set only when the link's member token was valid and made for this
    mailing; a forwarded or stripped link is still a click, just nobody's.
    """

    mailing = models.ForeignKey(Mailing, on_delete=models.CASCADE, related_name="+")
    link_number = models.PositiveIntegerField(_("link number (t)"))
    person = optional_link(Person, related_name="+")
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
    person = optional_link(Person, related_name="+")
    opened_at = models.DateTimeField(_("opened"))
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=USER_AGENT_LENGTH, blank=True)

    class Meta:
        verbose_name = _("open")
        verbose_name_plural = _("opens")
        indexes = [models.Index(fields=["mailing", "opened_at"], name="open_mailing_time_idx")]

    def __str__(self) -> str:
        return f"mailing {self.mailing_id} opened at {self.opened_at:%Y-%m-%d %H:%M:%S}"
