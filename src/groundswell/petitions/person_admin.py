"""The person's signatures on their admin page (members/admin.py), added from here as
members cannot import petitions. Loaded by petitions/apps.py."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import HttpRequest

from groundswell.members.admin import ReadOnlyInline, show_on_person_page
from groundswell.petitions.models import Signature


class SignatureInline(ReadOnlyInline):
    model = Signature
    fk_name = "person"
    fields = ["petition", "status", "source", "comment", "created_at"]
    readonly_fields = ["petition", "status", "source", "comment", "created_at"]
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[Signature]:
        return super().get_queryset(request).select_related("petition")


show_on_person_page(SignatureInline)
