"""Staff admin for petitions, their sponsors and signatures."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models, transaction
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from groundswell.lib.admin import ExactEmailSearchMixin
from groundswell.lib.markdown import render_markdown
from groundswell.petitions.counter import refresh_petition_count
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
        return (
            super()
            .get_queryset(request)
            .annotate(
                valid_signature_count=Count(
                    "signatures", filter=Q(signatures__status=SignatureStatus.VALID)
                )
            )
        )

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
        # The first opening and the latest closing are kept for reports.
        if "status" in form.changed_data:
            now = timezone.now()
            if obj.status == PetitionStatus.OPEN and obj.opened_at is None:
                obj.opened_at = now
            if obj.status == PetitionStatus.CLOSED:
                obj.closed_at = now
        super().save_model(request, obj, form, change)


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
    readonly_fields = ["created_at", "invalidated_at"]
    fieldsets = [
        (None, {"fields": ["petition", "person", "comment", "show_name", "created_at"]}),
        ("Validity", {"fields": ["status", "invalidated_reason", "invalidated_at"]}),
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
        if "status" in form.changed_data:
            invalid = obj.status == SignatureStatus.INVALIDATED
            obj.invalidated_at = timezone.now() if invalid else None
        if not change and not obj.source:
            obj.source = f"admin:{request.user.get_username()}"
        super().save_model(request, obj, form, change)
        if "status" in form.changed_data:
            # The public count never goes down on its own: an invalidation must say so.
            petition = obj.petition
            transaction.on_commit(lambda: refresh_petition_count(petition, allow_decrease=True))
