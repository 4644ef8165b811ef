from __future__ import annotations

import os
import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from groundswell.management import lookup
from groundswell.members.actions.staff import do_grant_role, do_make_administrator
from groundswell.orgs.models import Role

PASSWORD_VARIABLE = "GROUNDSWELL_PASSWORD"  # noqa: S105 (a variable name, not a password)


class Command(BaseCommand):
    help = (
        "Create a staff user or give one a role in an organisation. A new user's password "
        f"is taken from ${PASSWORD_VARIABLE} or generated and printed on the last line."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--org", metavar="ORG_SLUG", help="The organisation of the role.")
        parser.add_argument("--role", choices=[r.value for r in Role])
        parser.add_argument("--email", default="", help="The user's email address.")
        parser.add_argument(
            "--superuser",
            action="store_true",
            help="Make an installation administrator instead of giving a role.",
        )

    def handle(
        self,
        *args: Any,
        username: str,
        org: str | None,
        role: str | None,
        email: str,
        superuser: bool,
        **options: Any,
    ) -> None:
        if superuser and (org or role):
            raise CommandError("--superuser takes no --org or --role: it covers every one.")
        if not superuser and not (org and role):
            raise CommandError("Give --org and --role (or --superuser).")
        organisation = None
        if org:
            organisation = lookup.organisation(org)
        exists = get_user_model().objects.filter(username=username).exists()
        password = None
        generated = False
        if not exists:
            password = os.environ.get(PASSWORD_VARIABLE) or None
            if password is None:
                password, generated = secrets.token_urlsafe(15), True
            else:
                try:
                    validate_password(password, get_user_model()(username=username, email=email))
                except ValidationError as error:
                    raise CommandError(
                        f"${PASSWORD_VARIABLE} is too weak: " + " ".join(error.messages)
                    ) from None
        if superuser:
            result = do_make_administrator(
                "command line", username=username, email=email, password=password
            )
            what = "an installation administrator"
        else:
            assert organisation is not None and role is not None
            result = do_grant_role(
                "command line",
                username=username,
                organisation=organisation,
                role=Role(role),
                email=email,
                password=password,
            )
            what = f"{role} of {organisation.name}"
        verb = "Created" if result.created else "Updated"
        self.stdout.write(f"{verb} {username}: {what}.")
        if result.created:
            self.stdout.write(
                password if generated and password else f"Password from ${PASSWORD_VARIABLE}."
            )
