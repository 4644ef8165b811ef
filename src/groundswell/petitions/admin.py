"""Staff admin for petitions, their sponsors and signatures."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from groundswell.lib.admin import ExactEmailSearchMixin
from groundswell.lib.markdown import render_markdown
from groundswell.members.admin import admin_source
from groundswell.petitions.actions.lifecycle import (
    do_close_petition,
    do_draft_petition,
    do_open_petition,
)
from groundswell.petitions.actions.signatures import do_invalidate_signatures, do_restore_signatures
from groundswell.petitions.models import (
    Petition,
    PetitionSponsor,
    PetitionStatus,
    Signature,
    SignatureStatus,
)


class PetitionSponsorInline(admin.TabularInline):
    model = PetitionSponsor
    fields = ["organisation", "position"]
    ordering = ["position", "id"]
    autocomplete_fields = ["organisation"]
    extra = 0
    min_num = 1

    def get_queryset(self, request: HttpRequest) -> QuerySet[PetitionSponsor]:
        return super().get_queryset(request).select_related("organisation")


@admin.register(Petition)
class PetitionAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "slug",
        "status",
        "valid_signature_count",
        "goal",
        "opened_at",
        "closed_at",
    ]
    list_filter = ["status"]
    search_fields = ["title", "slug", "target"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["background_preview", "created_at", "opened_at", "closed_at"]
    readonly_fields += ["valid_signature_count"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "status", "target", "statement"]}),
        ("Background", {"fields": ["background", "background_preview"]}),
        ("Goal", {"fields": ["goal", "auto_raise_goal", "valid_signature_count"]}),
        (
            "Signing",
            {"fields": ["consent_mode", "require_postal_code", "require_country"]},
        ),
        ("After signing", {"fields": ["thank_you_text", "share_text", "social_image"]}),
        ("Times", {"fields": ["created_at", "opened_at", "closed_at"]}),
    ]
    inlines = [PetitionSponsorInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Petition]:
        valid = Count("signatures", filter=Q(signatures__status=SignatureStatus.VALID))
        return super().get_queryset(request).annotate(valid_signature_count=valid)

    @admin.display(description="valid signatures", ordering="valid_signature_count")
    def valid_signature_count(self, petition: Petition) -> int:
        return getattr(petition, "valid_signature_count", 0)

    @admin.display(description="preview (as saved)")
    def background_preview(self, petition: Petition) -> SafeString:
        if not petition.background:
            return format_html("<em>{}</em>", "Nothing yet: save to see the background here.")
        # render_markdown escapes raw HTML and cleans the result with nh3.
        html = render_markdown(petition.background)
        return format_html("<div class='markdown-preview'>{}</div>", mark_safe(html))  # noqa: S308

    def save_model(self, request: HttpRequest, obj: Petition, form: Any, change: bool) -> None:
        wanted = obj.status
        if "status" in form.changed_data:
            # The status changes through its action, which stamps the times and audits it.
            obj.status = form.initial.get("status", PetitionStatus.DRAFT)
        super().save_model(request, obj, form, change)
        if "status" in form.changed_data:
            change_status = {
                PetitionStatus.OPEN: do_open_petition,
                PetitionStatus.CLOSED: do_close_petition,
                PetitionStatus.DRAFT: do_draft_petition,
            }[PetitionStatus(wanted)]
            changed = change_status(obj, actor=admin_source(request))
            obj.status, obj.opened_at, obj.closed_at = (
                changed.status,
                changed.opened_at,
                changed.closed_at,
            )


@admin.register(Signature)
class SignatureAdmin(ExactEmailSearchMixin, admin.ModelAdmin):
    email_lookup = "person__email_normalised"
    list_display = ["person", "petition", "source", "created_at", "status"]
    list_filter = ["petition", "source", "status"]
    list_select_related = ["person", "petition"]
    date_hierarchy = "created_at"
    search_fields = ["person__email_normalised", "person__first_name", "person__last_name"]
    autocomplete_fields = ["person", "referrer"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    readonly_fields = ["created_at", "invalidated_at", "confirmed_at"]
    fieldsets = [
        (None, {"fields": ["petition", "person", "comment", "show_name", "created_at"]}),
        (
            "Validity",
            {"fields": ["status", "invalidated_reason", "invalidated_at", "confirmed_at"]},
        ),
        (
            "Where from",
            {
                "fields": [
                    "source",
                    "referrer",
                    "http_referer",
                    "utm_source",
                    "utm_medium",
                    "utm_campaign",
                    "utm_term",
                    "utm_content",
                ]
            },
        ),
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            # Who signed what is a fact; staff may only invalidate or restore it.
            fields += ["petition", "person", "source", "referrer", "http_referer"]
            fields += ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"]
        return fields

    def save_model(self, request: HttpRequest, obj: Signature, form: Any, change: bool) -> None:
        wanted = obj.status
        if "status" in form.changed_data:
            # Validity changes through its action, which stamps the time, audits it and
            # refreshes the public count.
            obj.status = form.initial.get("status", SignatureStatus.VALID)
        if not change and not obj.source:
            obj.source = admin_source(request)
        super().save_model(request, obj, form, change)
        if "status" in form.changed_data:
            if wanted == SignatureStatus.INVALIDATED:
                do_invalidate_signatures(
                    admin_source(request), [obj.pk], reason=obj.invalidated_reason
                )
            else:
                do_restore_signatures(admin_source(request), [obj.pk])
