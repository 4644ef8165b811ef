"""Admin behaviour shared by the apps' admin modules."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from groundswell.lib.addresses import normalise_email


class ExactEmailSearchMixin:
    """A whole address in the search box finds that person through the unique index,
    in any case or spacing; anything else searches the usual fields."""

    email_lookup = "email_normalised"

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        if "@" in search_term:
            try:
                normalised = normalise_email(search_term)
            except ValidationError:
                pass
            else:
                return queryset.filter(**{self.email_lookup: normalised}), False
        return super().get_search_results(request, queryset, search_term)  # type: ignore[misc]


class ViewOnlyAdminMixin:
    """A record written only by actions: staff may look, never add, change or delete."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
