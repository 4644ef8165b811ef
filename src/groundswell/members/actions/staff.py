"""Staff accounts and their roles per organisation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from groundswell.members.actions.audit import record_audit
from groundswell.members.models import AuditAction
from groundswell.orgs.models import Organisation, Role, StaffRole


@dataclass(frozen=True)
class StaffUserResult:
    user: AbstractBaseUser
    created: bool


class LastOwner(Exception):
    """An organisation must keep at least one owner, or nobody could manage its staff."""


def _find_or_create(
    username: str, email: str, password: str | None, *, superuser: bool
) -> tuple[Any, bool]:
    user_model = get_user_model()
    user = user_model.objects.filter(username=username).first()
    if user is not None:
        return user, False
    if not password:
        raise ValueError("A new staff user needs a password.")
    create = user_model.objects.create_superuser if superuser else user_model.objects.create_user
    return create(username, email or "", password), True


def do_grant_role(
    actor: str,
    *,
    username: str,
    organisation: Organisation,
    role: Role,
    email: str = "",
    password: str | None = None,
    ip_address: str | None = None,
) -> StaffUserResult:
    """Give `username` this role in this organisation, creating the user (with
    `password`) when there is none. A role already held there is replaced."""
    with transaction.atomic():
        user, created = _find_or_create(username, email, password, superuser=False)
        if not created and email and user.email != email:
            user.email = email
            user.save(update_fields=["email"])
        previous = StaffRole.objects.filter(user=user, organisation=organisation).first()
        was = previous.role if previous is not None else ""
        if previous is None:
            StaffRole.objects.create(user=user, organisation=organisation, role=role)
        elif previous.role != role:
            if (
                previous.role == Role.OWNER
                and not StaffRole.objects.filter(organisation=organisation, role=Role.OWNER)
                .exclude(pk=previous.pk)
                .exists()
            ):
                raise LastOwner(username)
            previous.role = role
            previous.save(update_fields=["role"])
        if was != role or created:
            record_audit(
                AuditAction.ROLE_GRANTED,
                actor,
                organisation=organisation,
                ip_address=ip_address,
                details={
                    "user": username,
                    "role": str(role),
                    "previous": was,
                    "created": created,
                },
            )
    return StaffUserResult(user=user, created=created)


def do_make_administrator(
    actor: str, *, username: str, email: str = "", password: str | None = None
) -> StaffUserResult:
    """An installation administrator: manages organisations, sees everything."""
    with transaction.atomic():
        user, created = _find_or_create(username, email, password, superuser=True)
        if not (user.is_superuser and user.is_staff):
            user.is_superuser = user.is_staff = True
            user.save(update_fields=["is_superuser", "is_staff"])
        record_audit(
            AuditAction.ROLE_GRANTED,
            actor,
            details={"user": username, "role": "administrator", "created": created},
        )
    return StaffUserResult(user=user, created=created)


def do_remove_role(
    actor: str, *, username: str, organisation: Organisation, ip_address: str | None = None
) -> bool:
    """Take away `username`'s role in this organisation; False when they had none.
    Refused (LastOwner) for the organisation's only owner."""
    with transaction.atomic():
        role = (
            StaffRole.objects.select_for_update()
            .filter(user__username=username, organisation=organisation)
            .first()
        )
        if role is None:
            return False
        if role.role == Role.OWNER:
            owners = StaffRole.objects.select_for_update().filter(
                organisation=organisation, role=Role.OWNER
            )
            if owners.count() <= 1:
                raise LastOwner(username)
        was = role.role
        role.delete()
        record_audit(
            AuditAction.ROLE_REMOVED,
            actor,
            organisation=organisation,
            ip_address=ip_address,
            details={"user": username, "previous": was},
        )
        return True
