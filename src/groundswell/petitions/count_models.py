"""The figures kept beside the signatures: the public count and the dashboard's tallies.

PetitionCount is kept by counter.py, SignatureTally and TallyMark by tally/. Imported
by models.py, which the rest of the code imports them from.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class PetitionCount(models.Model):
    """The public count of a petition's valid signatures, refreshed by readers.

    Signing never touches this row (it would make every signer queue on one lock).
    Whoever reads it when it is older than a few seconds recounts from the
    signatures; see petitions/counter.py.
    """

    petition = models.OneToOneField(
        "petitions.Petition", on_delete=models.CASCADE, primary_key=True, related_name="count_row"
    )
    count = models.PositiveIntegerField(_("count"), default=0)
    updated_at = models.DateTimeField(_("counted at"))

    class Meta:
        verbose_name = _("petition count")
        verbose_name_plural = _("petition counts")

    def __str__(self) -> str:
        return f"{self.petition_id}: {self.count}"


class TallyDimension(models.TextChoices):
    """What a tally row counts by. ALL has an empty value: the hour's valid signatures."""

    ALL = "all", _("all")
    SOURCE = "source", _("source")
    REFERRER = "referrer", _("referring site")
    COUNTRY = "country", _("country")
    REGION = "region", _("postal region")
    MEMBER = "member", _("new or existing member")


class SignatureTally(models.Model):
    """Valid signatures of one petition in one hour (UTC), by one dimension's value.

    The staff dashboard reads these instead of grouping a million signatures per
    request; petitions/tally/ keeps them, and adds the signatures newer than the
    petition's TallyMark when it reads, so the figures are never behind.
    """

    petition = models.ForeignKey(
        "petitions.Petition", on_delete=models.CASCADE, related_name="tallies"
    )
    hour = models.DateTimeField(_("hour"))
    dimension = models.CharField(_("dimension"), max_length=10, choices=TallyDimension.choices)
    value = models.CharField(_("value"), max_length=120, blank=True)
    count = models.PositiveIntegerField(_("count"))

    class Meta:
        verbose_name = _("signature tally")
        verbose_name_plural = _("signature tallies")
        constraints = [
            models.UniqueConstraint(
                fields=["petition", "dimension", "hour", "value"], name="one_tally_per_bucket"
            )
        ]
        indexes = [
            # The totals per value are read from this index alone, in value order.
            models.Index(
                fields=["petition", "dimension", "value", "count"], name="tally_totals_idx"
            )
        ]

    def __str__(self) -> str:
        bucket = f"{self.hour:%Y-%m-%d %H}h {self.dimension}={self.value}"
        return f"{self.petition_id} {bucket}: {self.count}"


class TallyMark(models.Model):
    """How far a petition's tallies go: every valid signature created before
    `counted_before` is in them. `changed_at` moves whenever signatures already
    tallied change (invalidated, restored, anonymised): a refresh that counted before
    such a change throws its result away."""

    petition = models.OneToOneField(
        "petitions.Petition", on_delete=models.CASCADE, primary_key=True, related_name="tally_mark"
    )
    counted_before = models.DateTimeField(_("counted before"))
    changed_at = models.DateTimeField(_("tallied signatures changed"), null=True, blank=True)

    class Meta:
        verbose_name = _("tally mark")
        verbose_name_plural = _("tally marks")

    def __str__(self) -> str:
        return f"{self.petition_id}: before {self.counted_before:%Y-%m-%d %H:%M:%S}"
