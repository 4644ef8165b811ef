"""A pending signature's confirmation by email: the consent it waits to record.

Its links and tokens are confirmations.py, the page confirm_views.py, the action
actions/confirming.py. Imported by models.py, which the rest of the code imports it from.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class SignatureConfirmation(models.Model):
    """What a pending signature does once its signer confirms it (by email): the
    consent they gave on the form, kept here until then, and how many confirmation
    emails went. Deleted with the signature, or when it is confirmed."""

    signature = models.OneToOneField(
        "petitions.Signature",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="confirmation",
    )
    # [[mailing list id, wording shown], ...]: recorded as consent on confirmation.
    consents = models.JSONField(_("consent given"), default=list, blank=True)
    ip_address = models.GenericIPAddressField(_("signed from"), null=True, blank=True)
    emails_sent = models.PositiveSmallIntegerField(_("emails sent"), default=0)
    emailed_at = models.DateTimeField(_("last emailed"), null=True, blank=True)

    class Meta:
        verbose_name = _("signature confirmation")
        verbose_name_plural = _("signature confirmations")

    def __str__(self) -> str:
        return f"confirmation of {self.signature_id}"
