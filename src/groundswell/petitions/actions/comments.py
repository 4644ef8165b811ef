"""Signers' comments: hidden from the public page and the delivery when abusive, and
shown again."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from groundswell.members.actions.audit import record_audit
from groundswell.members.models import AuditAction
from groundswell.petitions.models import Signature


def do_hide_comment(actor: str, signature: Signature, *, hidden: bool) -> bool:
    """Hide the comment (or show it again). Returns whether anything changed."""
    with transaction.atomic():
        rows = Signature.objects.filter(pk=signature.pk, comment_hidden_at__isnull=hidden)
        changed = bool(rows.update(comment_hidden_at=timezone.now() if hidden else None))
        if changed:
            record_audit(
                AuditAction.COMMENT_HIDDEN if hidden else AuditAction.COMMENT_SHOWN,
                actor,
                organisation=signature.petition.lead_sponsor_id(),
                details={"petition": signature.petition_id, "signature": signature.pk},
            )
    return changed
