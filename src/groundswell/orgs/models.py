from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from groundswell.lib.fields import time_added


class Organisation(models.Model):
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    website = models.URLField(_("website"), blank=True)
    postal_address = models.TextField(
        _("postal address"), help_text=_("Printed in the footer of every email.")
    )
    privacy_policy_url = models.URLField(_("privacy policy URL"))
    sender_name = models.CharField(_("default sender name"), max_length=200)
    sender_email = models.EmailField(_("default sender address"))
    created_at = time_added(_("created"))

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name

    @property
    def default_list(self) -> MailingList | None:
        return self.mailing_lists.filter(is_default=True).first()


class MailingList(models.Model):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="mailing_lists"
    )
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=80)
    description = models.TextField(_("description"), blank=True)
    is_default = models.BooleanField(
        _("default list"),
        default=False,
        help_text=_("Signers who consent to this organisation join its default list."),
    )
    created_at = time_added(_("created"))

    class Meta:
        ordering = ["organisation__name", "name"]
        verbose_name = _("mailing list")
        verbose_name_plural = _("mailing lists")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "slug"], name="list_slug_per_org"),
            models.UniqueConstraint(
                fields=["organisation"],
                condition=models.Q(is_default=True),
                name="one_default_list_per_org",
                violation_error_message=_(
                    "This organisation already has a default list: untick that one first."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation.name}: {self.name}"


class Role(models.TextChoices):
    """What a staff user may do for one organisation."""

    OWNER = "owner", _("owner")  # everything, including the organisation's staff and roles
    CAMPAIGNER = "campaigner", _("campaigner")  # petitions, mailings, people, exports
    VIEWER = "viewer", _("viewer")  # figures only: no personal data, no writes


class StaffRole(models.Model):
    """One staff user's role in one organisation; a user may hold roles in several."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_roles"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="staff_roles"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    created_at = time_added(_("since"))

    class Meta:
        ordering = ["organisation__name", "user__username"]
        verbose_name = _("staff role")
        verbose_name_plural = _("staff roles")
        constraints = [
            models.UniqueConstraint(fields=["user", "organisation"], name="one_role_per_org"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.organisation} · {self.get_role_display()}"
