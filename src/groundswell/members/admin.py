"""Staff admin for people, their subscriptions and the consent history behind them.

Consent history is append-only: no page here edits or deletes a ConsentEvent, and
a subscription's status changes only through members.actions, which writes the
event. Deleting people or subscriptions is switched off because it would take
their consent history with it (the database cascades).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from groundswell.lib.addresses import normalise_email
from groundswell.lib.admin import ExactEmailSearchMixin, ViewOnlyAdminMixin
from groundswell.lib.downloads import json_attachment
from groundswell.lib.tokens import email_hashes
from groundswell.members.actions.consent import do_unsubscribe
from groundswell.members.actions.people import PersonDetails, do_find_or_create_person
from groundswell.members.actions.privacy import do_erase_person, do_record_export
from groundswell.members.actions.profile import PROFILE_FIELDS, do_change_email, do_update_profile
from groundswell.members.models import (
    AuditEntry,
    ConsentEvent,
    Person,
    Subscription,
    SubscriptionStatus,
    Suppression,
)
from groundswell.orgs.models import MailingList


def admin_source(request: HttpRequest) -> str:
    """The source written into consent history for a change made by this staff member."""
    return f"admin:{request.user.get_username()}"


def can_unsubscribe(request: HttpRequest) -> bool:
    return request.user.has_perm("members.change_subscription")


def _unsubscribe(request: HttpRequest, subscriptions: QuerySet[Subscription]) -> int:
    done = 0
    for subscription in subscriptions.select_related("person", "mailing_list"):
        if subscription.status == SubscriptionStatus.UNSUBSCRIBED:
            continue
        do_unsubscribe(subscription.person, subscription.mailing_list, source=admin_source(request))
        done += 1
    return done


def _history_html(subscription: Subscription) -> str:
    events = subscription.events.all()  # prefetched by the admin querysets
    if not events:
        return "no events yet"
    return format_html(
        "<ol class='consent-history'>{}</ol>",
        format_html_join(
            "",
            "<li><strong>{}</strong> {} · {}{}</li>",
            (
                (
                    event.get_kind_display(),
                    f"{event.created_at:%Y-%m-%d %H:%M}",
                    event.source,
                    f" · {event.ip_address}" if event.ip_address else "",
                )
                for event in events
            ),
        ),
    )


class ReadOnlyInline(ViewOnlyAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False


class SubscriptionInline(ReadOnlyInline):
    model = Subscription
    fields = ["mailing_list", "status", "created_at", "updated_at", "history"]
    readonly_fields = ["mailing_list", "status", "created_at", "updated_at", "history"]
    show_change_link = True
    verbose_name_plural = "subscriptions (change them from the subscription page or actions)"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Subscription]:
        return (
            super()
            .get_queryset(request)
            .select_related("mailing_list__organisation")
            .prefetch_related("events")
        )

    @admin.display(description="consent history")
    def history(self, subscription: Subscription) -> str:
        return _history_html(subscription)


class PersonForm(forms.ModelForm):
    class Meta:
        model = Person
        fields = [
            "email",
            "first_name",
            "last_name",
            "address",
            "postal_code",
            "country",
            "source",
        ]

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        normalised = normalise_email(email)
        others = Person.objects.filter(email_normalised=normalised).exclude(pk=self.instance.pk)
        if others.exists():
            raise ValidationError("Someone with this email address is already here.")
        self.instance.email_normalised = normalised
        return str(email)

    def clean_country(self) -> str:
        return str(self.cleaned_data["country"]).strip().upper()


@admin.register(Person)
class PersonAdmin(ExactEmailSearchMixin, admin.ModelAdmin):
    form = PersonForm
    list_display = ["email", "first_name", "last_name", "postal_code", "country", "source"]
    list_display += ["created_at"]
    list_filter = ["country", "source", "created_at"]
    search_fields = ["email_normalised", "first_name", "last_name"]
    search_help_text = "A full email address finds that person exactly; anything else searches."
    date_hierarchy = "created_at"
    readonly_fields = ["email_normalised", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["email", "email_normalised", "first_name", "last_name"]}),
        ("Address", {"fields": ["address", "postal_code", "country"]}),
        ("Where from", {"fields": ["source", "created_at", "updated_at"]}),
    ]
    # Apps above members add theirs with show_on_person_page (petitions: signatures).
    inlines = [SubscriptionInline]
    actions = ["unsubscribe_from_every_list", "export_data", "erase_data"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))
        # How we first met someone is history, set once.
        return [*fields, "source"] if obj is not None else fields

    def save_model(self, request: HttpRequest, obj: Person, form: Any, change: bool) -> None:
        # Through the members actions, like every other write to people: they audit it.
        actor = admin_source(request)
        data = form.cleaned_data
        if not change:
            person, _ = do_find_or_create_person(
                PersonDetails(
                    email=data["email"], **{field: data[field] for field in PROFILE_FIELDS}
                ),
                source=data["source"] or actor,
            )
            # The admin goes on to log and redirect with this object: make it the saved row.
            obj.pk = person.pk
            obj._state.adding = False
            obj._state.db = person._state.db
            return
        person = Person.objects.get(pk=obj.pk)
        changes = {field: data[field] for field in PROFILE_FIELDS if field in form.changed_data}
        if changes:
            do_update_profile(person, changes, actor=actor)
        if "email" in form.changed_data:
            do_change_email(person, data["email"], actor=actor)

    def has_unsubscribe_permission(self, request: HttpRequest) -> bool:
        return can_unsubscribe(request)

    @admin.action(
        description="Unsubscribe from every list (records a consent event)",
        permissions=["unsubscribe"],
    )
    def unsubscribe_from_every_list(self, request: HttpRequest, queryset: QuerySet[Person]) -> None:
        done = _unsubscribe(request, Subscription.objects.filter(person__in=queryset))
        self.message_user(request, _unsubscribed(done), messages.SUCCESS)

    def has_privacy_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("members.change_person")

    @admin.action(
        description=_("Export their data (JSON, written to the audit log)"),
        permissions=["privacy"],
    )
    def export_data(self, request: HttpRequest, queryset: QuerySet[Person]) -> HttpResponse:
        actor = admin_source(request)
        data = [do_record_export(person, actor=actor) for person in queryset]
        return json_attachment(data, filename="people-export.json")

    @admin.action(
        description=_("Erase their data (asks to confirm; written to the audit log)"),
        permissions=["privacy"],
    )
    def erase_data(
        self, request: HttpRequest, queryset: QuerySet[Person]
    ) -> TemplateResponse | None:
        if request.POST.get("confirmed") != "yes":
            return TemplateResponse(
                request,
                "admin/members/person/erase_confirmation.html",
                {
                    **self.admin_site.each_context(request),
                    "title": _("Erase these people's data?"),
                    "people": queryset,
                    "opts": self.model._meta,
                    "action_name": "erase_data",
                    "selected": [str(pk) for pk in queryset.values_list("pk", flat=True)],
                },
            )
        actor = admin_source(request)
        count = 0
        for person in queryset:
            do_erase_person(person, actor=actor)
            count += 1
        self.message_user(
            request,
            ngettext("Erased %(count)d person.", "Erased %(count)d people.", count)
            % {"count": count},
        )
        return None


class ConsentEventInline(ReadOnlyInline):
    model = ConsentEvent
    fields = ["kind", "created_at", "source", "ip_address", "wording"]
    readonly_fields = ["kind", "created_at", "source", "ip_address", "wording"]
    ordering = ["created_at", "id"]


@admin.register(Subscription)
class SubscriptionAdmin(ExactEmailSearchMixin, ViewOnlyAdminMixin, admin.ModelAdmin):
    # View-only: consent comes from the person with the wording they saw, and status
    # changes only through the actions below, which write the history.
    email_lookup = "person__email_normalised"
    list_display = ["person", "mailing_list", "status", "created_at", "updated_at"]
    list_filter = ["mailing_list", "status"]
    list_select_related = ["person", "mailing_list__organisation"]
    search_fields = ["person__email_normalised", "person__first_name", "person__last_name"]
    readonly_fields = ["person", "mailing_list", "status", "created_at", "updated_at"]
    inlines = [ConsentEventInline]
    actions = ["unsubscribe_selected"]

    def has_unsubscribe_permission(self, request: HttpRequest) -> bool:
        return can_unsubscribe(request)

    @admin.action(
        description="Unsubscribe selected (records a consent event)", permissions=["unsubscribe"]
    )
    def unsubscribe_selected(self, request: HttpRequest, queryset: QuerySet[Subscription]) -> None:
        done = _unsubscribe(request, queryset)
        skipped = queryset.count() - done
        self.message_user(request, _unsubscribed(done, skipped), messages.SUCCESS)


class HashSearchMixin:
    """Addresses are kept only as keyed hashes here: a whole address is hashed to find it."""

    hash_field = "email_hash"

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        try:
            normalised = normalise_email(search_term)
        except ValidationError:
            return queryset.none() if search_term.strip() else queryset, False
        return queryset.filter(**{f"{self.hash_field}__in": email_hashes(normalised)}), False


@admin.register(Suppression)
class SuppressionAdmin(ViewOnlyAdminMixin, HashSearchMixin, admin.ModelAdmin):
    # Only members.actions adds or lifts suppressions (a fresh consent lifts one).
    list_display = ["__str__", "reason", "source", "created_at"]
    list_filter = ["reason"]
    search_fields = ["email_hash"]
    search_help_text = "Type a whole email address."


@admin.register(AuditEntry)
class AuditEntryAdmin(ViewOnlyAdminMixin, HashSearchMixin, admin.ModelAdmin):
    hash_field = "subject_hash"
    list_display = ["created_at", "action", "actor", "person"]
    list_filter = ["action"]
    list_select_related = ["person"]
    search_fields = ["subject_hash"]
    search_help_text = "Type a whole email address."
    date_hierarchy = "created_at"


def show_on_person_page(inline: type[admin.options.InlineModelAdmin]) -> None:
    """Show another app's rows about a person on the person's admin page."""
    if inline not in PersonAdmin.inlines:
        PersonAdmin.inlines = [*PersonAdmin.inlines, inline]


# The lists are orgs', their subscriptions ours: the page showing how many are on each
# list lives with the subscriptions.
@admin.register(MailingList)
class MailingListAdmin(admin.ModelAdmin):
    list_display = ["name", "organisation", "is_default", "subscribed_count", "subscription_count"]
    list_filter = ["organisation", "is_default"]
    list_select_related = ["organisation"]
    search_fields = ["name", "slug", "organisation__name"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["organisation"]
    readonly_fields = ["created_at", "subscribed_count", "subscription_count"]
    fields = [
        "organisation",
        "name",
        "slug",
        "description",
        "is_default",
        "created_at",
        "subscribed_count",
        "subscription_count",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[MailingList]:
        lists = super().get_queryset(request)
        now = Q(subscriptions__status=SubscriptionStatus.SUBSCRIBED)
        return lists.annotate(
            subscribed_count=Count("subscriptions", filter=now),
            subscription_count=Count("subscriptions"),
        )

    @admin.display(description="subscribed now", ordering="subscribed_count")
    def subscribed_count(self, mailing_list: MailingList) -> int:
        return getattr(mailing_list, "subscribed_count", 0)

    @admin.display(description="ever on the list", ordering="subscription_count")
    def subscription_count(self, mailing_list: MailingList) -> int:
        return getattr(mailing_list, "subscription_count", 0)


def _unsubscribed(done: int, skipped: int = 0) -> str:
    said = ngettext(
        "Unsubscribed %(count)d subscription", "Unsubscribed %(count)d subscriptions", done
    ) % {"count": done}
    if skipped:
        said += f" ({skipped} already unsubscribed)"
    return said + "."
