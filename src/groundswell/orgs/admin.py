"""Staff admin for organisations and their mailing lists."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest

from groundswell.orgs.models import MailingList, Organisation


class MailingListFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        defaults = [
            form
            for form in self.forms
            if form.cleaned_data.get("is_default") and not form.cleaned_data.get("DELETE")
        ]
        # Each form checks the database; two new defaults in one save only meet here.
        if len(defaults) > 1:
            raise ValidationError("An organisation has one default list: tick only one.")


class MailingListInline(admin.TabularInline):
    model = MailingList
    formset = MailingListFormSet
    fields = ["name", "slug", "is_default", "description"]
    prepopulated_fields = {"slug": ["name"]}
    extra = 0
    show_change_link = True
    # A list with subscribers is PROTECTed; deleting from here would only fail later.
    can_delete = False


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "website", "sender_email", "list_count"]
    # Staff type "example.org": read it as https, as Django 6 will.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["created_at"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "website", "created_at"]}),
        (
            "What every email carries",
            {"fields": ["postal_address", "privacy_policy_url", "sender_name", "sender_email"]},
        ),
    ]
    inlines = [MailingListInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Organisation]:
        return super().get_queryset(request).annotate(list_count=Count("mailing_lists"))

    @admin.display(description="lists", ordering="list_count")
    def list_count(self, organisation: Organisation) -> int:
        return getattr(organisation, "list_count", 0)
