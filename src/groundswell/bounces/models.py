"""What came back from mailings: bounces and complaints, and the alerts they raised."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from groundswell.lib.fields import optional_link, time_added
from groundswell.mailings.models import Mailing, MailingRecipient
from groundswell.members.models import Person


class BounceKind(models.TextChoices):
    HARD = "hard", _("hard bounce")
    SOFT = "soft", _("soft bounce (delayed)")
    COMPLAINT = "complaint", _("complaint (marked as spam)")
    UNSUBSCRIBE = "unsubscribe", _("unsubscribed at the provider")


class BounceEvent(models.Model):
    """One report about a message we sent, kept whether or not it changed anything.

    Holds no address: the person (or their copy of the mailing) if we found them,
    which erasure empties.
    """

    kind = models.CharField(_("kind"), max_length=12, choices=BounceKind.choices)
    source = models.CharField(
        _("source"), max_length=100, help_text=_("dsn, arf, or the provider's webhook.")
    )
    recipient = optional_link(MailingRecipient, related_name="bounce_events")
    person = optional_link(Person, related_name="bounce_events")
    status = models.CharField(_("status code"), max_length=20, blank=True)
    detail = models.CharField(_("server's words"), max_length=500, blank=True)
    created_at = time_added(_("received"), db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("bounce or complaint")
        verbose_name_plural = _("bounces and complaints")

    def __str__(self) -> str:
        return f"{self.kind} from {self.source} at {self.created_at:%Y-%m-%d %H:%M}"


class ComplaintAlert(models.Model):
    """Staff were told this mailing's complaint rate passed the limit: tell them once."""

    mailing = models.OneToOneField(Mailing, on_delete=models.CASCADE, related_name="+")
    rate = models.FloatField(_("complaint rate when raised"))
    created_at = time_added(_("raised"))

    class Meta:
        verbose_name = _("complaint-rate alert")
        verbose_name_plural = _("complaint-rate alerts")

    def __str__(self) -> str:
        return f"{self.mailing}: {self.rate:.2%}"
