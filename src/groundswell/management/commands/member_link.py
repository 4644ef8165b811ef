from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from groundswell.lib.addresses import normalise_email
from groundswell.lib.tokens import make_member_token
from groundswell.members.models import Person


class Command(BaseCommand):
    help = "Print a member's personal link: a petition page that knows them, or their profile."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("--petition", metavar="SLUG", help="Link to this petition's page.")
        parser.add_argument(
            "--mailing", metavar="ID", type=int, default=0, help="Attribute to this mailing."
        )

    def handle(
        self, *args: Any, email: str, petition: str | None, mailing: int, **options: Any
    ) -> None:
        try:
            normalised = normalise_email(email)
        except ValidationError as error:
            raise CommandError(f"{email!r} is not an email address: {error.messages[0]}") from None
        person = Person.objects.filter(email_normalised=normalised).first()
        if person is None:
            raise CommandError(f"No member has the address {email}.")
        if mailing < 0:
            raise CommandError("--mailing must be zero or a mailing id.")
        token = make_member_token(person.pk, mailing)
        if petition:
            from groundswell.petitions.models import Petition

            if not Petition.objects.filter(slug=petition).exists():
                raise CommandError(f"No petition has the slug {petition!r}.")
            self.stdout.write(f"{settings.BASE_URL}/sign/{petition}/?akid={token}")
        else:
            self.stdout.write(f"{settings.BASE_URL}/profile/{token}/")
