"""What the staff navigation shows a user, decided by orgs.access."""

from __future__ import annotations

from typing import Any

from django import template

from groundswell.orgs.access import Permission, manages_staff_anywhere, organisation_ids

register = template.Library()


@register.filter
def may_read_audit(user: Any) -> bool:
    """Owners read their organisations' audit entries; administrators all of them."""
    return manages_staff_anywhere(user)


@register.filter
def may_see_people(user: Any) -> bool:
    """Campaigners and owners somewhere (and administrators): the lists page is theirs."""
    return bool(organisation_ids(user, Permission.PEOPLE))
