"""The demo's staff logins, one per role story, made once, their passwords kept in the
data directory: `staff` (installation administrator), `fieldstone` (owner of Fieldstone
Action, sponsor of campaign B) and `partner` (campaigner of Harbourlight Legal Aid, one
of campaign B's coalition partners)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from groundswell.demo.content import FIELDSTONE, HARBOURLIGHT
from groundswell.members.actions.staff import do_grant_role
from groundswell.orgs.models import Organisation, Role, StaffRole

STAFF_USERNAME = "staff"


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    story: str


# username, organisation slug, role, what the demo prints beside it
ROLE_STORIES = (
    ("fieldstone", FIELDSTONE.slug, Role.OWNER, f"owner of {FIELDSTONE.name}"),
    ("partner", HARBOURLIGHT.slug, Role.CAMPAIGNER, f"campaigner of {HARBOURLIGHT.name}"),
)


def password_file(username: str = STAFF_USERNAME) -> Path:
    return Path(settings.DATA_DIR) / f"{username}_password"


def _password(username: str) -> str:
    path = password_file(username)
    if not path.exists():
        path.write_text(secrets.token_urlsafe(12) + "\n")
        path.chmod(0o600)
    return path.read_text().strip()


def _reset(user: object, password: str, *, superuser: bool) -> None:
    """The password we print must work, so one changed since is set back to the
    stored one: these accounts exist only in the demo."""
    if user.check_password(password) and user.is_active and user.is_superuser == superuser:  # type: ignore[attr-defined]
        return
    user.set_password(password)  # type: ignore[attr-defined]
    user.is_active = True  # type: ignore[attr-defined]
    user.is_staff = user.is_superuser = superuser  # type: ignore[attr-defined]
    user.save()  # type: ignore[attr-defined]


def ensure_demo_staff() -> tuple[str, str]:
    """The administrator's username and password, creating either if missing."""
    password = _password(STAFF_USERNAME)
    user_model = get_user_model()
    with transaction.atomic():
        user = user_model.objects.filter(username=STAFF_USERNAME).first()
        if user is None:
            user_model.objects.create_superuser(STAFF_USERNAME, "staff@example.org", password)
        else:
            _reset(user, password, superuser=True)
    return STAFF_USERNAME, password


def ensure_demo_logins() -> list[DemoLogin]:
    """Every demo login, the administrator first; role users only where their
    organisation exists (it does once the demo campaigns are loaded)."""
    username, password = ensure_demo_staff()
    logins = [DemoLogin(username, password, "installation administrator")]
    for name, slug, role, story in ROLE_STORIES:
        organisation = Organisation.objects.filter(slug=slug).first()
        if organisation is None:
            continue
        password = _password(name)
        user = get_user_model().objects.filter(username=name).first()
        if user is not None:
            _reset(user, password, superuser=False)
        held = StaffRole.objects.filter(user__username=name, organisation=organisation)
        if not held.filter(role=role).exists():
            do_grant_role(
                "demo",
                username=name,
                organisation=organisation,
                role=role,
                email=f"{name}@example.org",
                password=password,
            )
        logins.append(DemoLogin(name, password, story))
    return logins
