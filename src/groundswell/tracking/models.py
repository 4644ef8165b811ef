"""Tracked links: every link in a mailing has a number `t` and a destination we keep."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from groundswell.mailings.models import Mailing
from groundswell.petitions.models import Petition


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
