"""The workspace's own records: people imports, from upload to report, and the trust
page's bulk invalidations."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from groundswell.lib.fields import optional_link, time_added
from groundswell.orgs.models import MailingList, Organisation
from groundswell.petitions.models import Petition, Signature


class ImportStatus(models.TextChoices):
    """A people import's progress: staff check its columns after the upload, then a
    background task runs it; a failed import changed nothing."""

    UPLOADED = "uploaded", _("uploaded, columns to check")
    QUEUED = "queued", _("waiting to start")
    RUNNING = "running", _("importing")
    DONE = "done", _("done")
    FAILED = "failed", _("failed, nothing changed")


class PeopleImport(models.Model):
    """A CSV of people collected elsewhere, brought onto one list (and optionally signed
    onto a petition) by a background task. The file is kept until the import is done;
    the refused rows, with their reasons, after."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="imports")
    mailing_list = models.ForeignKey(
        MailingList, on_delete=models.CASCADE, related_name="imports", verbose_name=_("list")
    )
    petition = optional_link(
        Petition, related_name="imports", verbose_name=_("also signs the petition")
    )
    created_by = models.CharField(_("by"), max_length=200)
    created_at = time_added(_("uploaded"))
    file_name = models.CharField(_("file"), max_length=200)
    data = models.TextField(_("file's text"), blank=True)
    # Our field name -> the column's index in the file.
    columns = models.JSONField(_("columns"), default=dict)
    consent_text = models.TextField(_("consent wording"))
    source = models.CharField(_("source"), max_length=100)
    status = models.CharField(
        _("status"), max_length=12, choices=ImportStatus.choices, default=ImportStatus.UPLOADED
    )
    rows = models.PositiveIntegerField(_("rows"), default=0)
    imported = models.PositiveIntegerField(_("new people"), default=0)
    updated = models.PositiveIntegerField(_("people already known"), default=0)
    held = models.PositiveIntegerField(_("asked by email instead"), default=0)
    signed = models.PositiveIntegerField(_("signatures added"), default=0)
    rejected = models.PositiveIntegerField(_("rows refused"), default=0)
    # CSV: line, email, reason.
    rejected_report = models.TextField(_("refused rows"), blank=True)
    error = models.TextField(_("what went wrong"), blank=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("people import")
        verbose_name_plural = _("people imports")

    def __str__(self) -> str:
        return f"{self.file_name} → {self.mailing_list}"


class InvalidationBatch(models.Model):
    """One bulk invalidation on the trust page: what it matched, who ran it and why,
    and exactly which signatures it took out of the count (InvalidatedSignature), so
    that undoing it restores those and no other. A batch runs in chunks; one with no
    `finished_at` stopped part-way (its recorded signatures were invalidated, the
    rest were not)."""

    petition = models.ForeignKey(
        Petition, on_delete=models.CASCADE, related_name="invalidation_batches"
    )
    criteria = models.JSONField(_("criteria"), default=dict)
    reason = models.CharField(_("why invalidated"), max_length=200)
    created_by = models.CharField(_("by"), max_length=200)
    # Also every invalidated signature's `invalidated_at`: the undo restores only those
    # still carrying it (not one restored and invalidated again by something else since).
    created_at = models.DateTimeField(_("invalidated at"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    invalidated = models.PositiveIntegerField(_("signatures invalidated"), default=0)
    undone_at = models.DateTimeField(_("undone"), null=True, blank=True)
    undone_by = models.CharField(_("undone by"), max_length=200, blank=True)
    restored = models.PositiveIntegerField(_("signatures restored"), default=0)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("invalidation batch")
        verbose_name_plural = _("invalidation batches")

    def __str__(self) -> str:
        return f"{self.invalidated} of {self.petition_id} at {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def is_undoable(self) -> bool:
        return self.undone_at is None and self.invalidated > 0


class InvalidatedSignature(models.Model):
    """A signature an InvalidationBatch took out of the count."""

    batch = models.ForeignKey(
        InvalidationBatch, on_delete=models.CASCADE, related_name="signatures"
    )
    signature = models.ForeignKey(
        Signature, on_delete=models.CASCADE, related_name="invalidation_batches"
    )

    class Meta:
        verbose_name = _("invalidated signature")
        verbose_name_plural = _("invalidated signatures")
        constraints = [
            models.UniqueConstraint(fields=["batch", "signature"], name="in_a_batch_once")
        ]

    def __str__(self) -> str:
        return f"{self.signature_id} in batch {self.batch_id}"
