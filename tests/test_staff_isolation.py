"""Every staff and admin URL, enumerated from the URL resolver so that a new page cannot
be forgotten: staff of another organisation get 404 for anything of Open Press, with
ids and slugs filled in by hand, and a viewer of Open Press can neither change anything
nor read anyone's personal data.

Open Press owns a petition, a sent mailing and a member, Zebedee Quintrell, who signed
and is on its list. Olga is a campaigner of the Action Fund; Vic a viewer of Open Press.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from groundswell.mailings.models import Mailing, MailingRecipient, MailingStatus
from groundswell.members.models import AuditEntry, Person, Subscription
from groundswell.orgs.models import Organisation
from groundswell.petitions.models import Petition, PetitionUpdate, Signature
from groundswell.workspace.models import ImportStatus, InvalidationBatch, PeopleImport
from tests import cast
from tests.cast import signed_in as client_of

# Every route of the URL map, several times over: the full passes run it; the Python
# 3.13 fast pass, which checks the code runs there, leaves it out for CI's time limit.
pytestmark = [pytest.mark.django_db, pytest.mark.slow]

SECRET_NAME = "Zebedee"
SECRET_EMAIL = "zebedee.quintrell@example.org"

# Pages that are not about anything of an organisation, and why they may answer.
ACCOUNT_PAGES = {
    "staff/login/": "the sign-in form: answers everyone",
    "staff/logout/": "signs the user out of their own session",
    "admin/login/": "the admin's sign-in hands over to the staff sign-in",
    "staff/login/code/": "the sign-in's second step, for whoever passed the first",
    "staff/account/two-factor/": "the user's own authenticator app",
    "staff/account/two-factor/recovery-codes/": "the user's own recovery codes",
    "staff/account/two-factor/off/": "turns off the user's own two-factor sign-in",
}


def _walk(resolver: URLResolver, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


def staff_routes() -> list[str]:
    """Every route under /staff/ and /admin/, as written in the URLconf."""
    routes = [route for route, _ in _walk(get_resolver())]
    found = [r for r in routes if r.startswith(("staff/", "admin/"))]
    assert len(found) > 60, "the URL resolver should list the staff pages and the admin"
    return found


ROUTES = staff_routes()


class World:
    """Open Press's things, and what a route's parameters become for them."""

    def __init__(self, open_press: Organisation, petition: Petition) -> None:
        self.org = open_press
        self.petition = petition
        self.person = cast.make_person(SECRET_EMAIL, SECRET_NAME, "Quintrell", postal_code="N1 9GU")
        cast.subscribe(self.person, cast.default_list(open_press))
        self.signature = Signature.objects.create(
            petition=petition, person=self.person, comment="Zebedee's reason"
        )
        self.mailing = cast.make_mailing(
            open_press, cast.default_list(open_press), petition=petition
        )
        Mailing.objects.filter(pk=self.mailing.pk).update(status=MailingStatus.SENT)
        MailingRecipient.objects.create(
            mailing=self.mailing, person=self.person, email=SECRET_EMAIL, state="sent"
        )
        self.staff = cast.make_staff("osman", organisation=open_press, role="owner")
        self.update = PetitionUpdate.objects.create(
            petition=petition, title="News", body="Some news.", posted_by="staff:osman"
        )
        self.people_import = PeopleImport.objects.create(
            organisation=open_press,
            mailing_list=cast.default_list(open_press),
            created_by="staff:osman",
            file_name="stall.csv",
            consent_text="Yes",
            source="stall",
            status=ImportStatus.DONE,
            rejected_report=f"line,email,reason\r\n2,{SECRET_EMAIL},Too long\r\n",
        )
        self.batch = InvalidationBatch.objects.create(
            petition=petition,
            criteria={"network": "203.0.113.7"},
            reason="A flood",
            created_by="staff:osman",
            created_at=timezone.now(),
            finished_at=timezone.now(),
            invalidated=1,
        )

    def url(self, route: str) -> str:
        """The route with every parameter naming one of Open Press's objects."""
        model_ids = {
            "members/person/": self.person.pk,
            "members/subscription/": Subscription.objects.filter(person=self.person).first(),
            "petitions/signature/": self.signature.pk,
            "petitions/petition/": self.petition.pk,
            "mailings/mailing/": self.mailing.pk,
            "orgs/organisation/": self.org.pk,
            "auth/user/": self.staff.pk,
        }
        object_id = next((getattr(v, "pk", v) for part, v in model_ids.items() if part in route), 1)
        values = {
            "(?P<url>.*)$": "anything/",
            "<int:mailing_id>": self.mailing.pk,
            "<slug:slug>": self.petition.slug,
            "<slug:org_slug>": self.org.slug,
            "<str:fmt>": "csv",
            "<int:list_id>": cast.default_list(self.org).pk,
            "<int:update_id>": self.update.pk,
            "<int:import_id>": self.people_import.pk,
            "<int:signature_id>": self.signature.pk,
            "<int:batch_id>": self.batch.pk,
            "<str:name>": "0001.eml",
            "<path:object_id>": object_id,
            "<path:content_type_id>": ContentType.objects.get_for_model(Person).pk,
            "<id>": self.staff.pk,
            "<int:pk>": object_id,
        }
        url = "/" + route
        for placeholder, value in values.items():
            url = url.replace(placeholder, str(value))
        url = re.sub(r"\^\(\?P<app_label>[^)]*\)/\$", "members/", url)
        assert "<" not in url, f"add a value for the parameter in {route}"
        return url


@pytest.fixture
def world(open_press: Organisation) -> World:
    return World(open_press, cast.make_petition(sponsors=[open_press]))


def named_objects(route: str) -> bool:
    return "<" in route or "(?P<" in route


@pytest.mark.parametrize("route", [r for r in ROUTES if r not in ACCOUNT_PAGES])
def test_it_answers_404_to_staff_of_another_organisation(
    route: str, world: World, action_fund: Organisation
) -> None:
    olga = client_of(cast.make_staff("olga", organisation=action_fund))
    url = world.url(route)
    statuses = []
    for method in (olga.get, olga.post):
        response = method(url)
        statuses.append(response.status_code)
        text = response.content.decode(errors="replace")
        assert SECRET_NAME not in text and SECRET_EMAIL not in text, url
        if named_objects(route) or route.startswith("admin/") or "mailbox" in route:
            # 405 refuses a method before anything is looked up; the other must 404.
            assert response.status_code in (404, 405), (url, response.status_code)
            assert 404 in statuses or method == olga.get, url
        else:
            # A page naming nothing: it lists only Olga's own organisation.
            assert response.status_code in (200, 302, 400, 404, 405), (url, response.status_code)
            assert world.mailing.subject not in text and world.petition.title not in text, url


@pytest.mark.parametrize("route", [r for r in ROUTES if r not in ACCOUNT_PAGES])
def test_it_lets_a_viewer_change_nothing_and_read_no_one(route: str, world: World) -> None:
    vic = client_of(cast.make_staff("vic", organisation=world.org, role="viewer"))
    before = _state()
    url = world.url(route)
    page = vic.get(url)
    assert SECRET_NAME not in page.content.decode(errors="replace"), url
    assert SECRET_EMAIL not in page.content.decode(errors="replace"), url
    answer = vic.post(url, {"confirm": "yes", "subject": "Changed", "reason": "x"})
    assert answer.status_code in (404, 405), (url, answer.status_code)
    assert _state() == before, url


def _state() -> dict[str, Any]:
    """What a write would change: the mailings, people and their consents."""
    return {
        "mailings": list(Mailing.objects.order_by("pk").values_list("pk", "status", "subject")),
        "people": list(Person.objects.order_by("pk").values_list("pk", "email", "first_name")),
        "subscriptions": list(Subscription.objects.order_by("pk").values_list("pk", "status")),
        "signatures": list(Signature.objects.order_by("pk").values_list("pk", "status")),
        "petitions": list(Petition.objects.order_by("pk").values_list("pk", "status")),
        "updates": PetitionUpdate.objects.count(),
        "audit": AuditEntry.objects.exclude(action__startswith="staff-sign").count(),
    }


def test_it_enumerates_the_mailing_and_workspace_pages(world: World) -> None:
    """The enumeration reaches the pages most worth protecting."""
    for route in [
        "staff/mailings/<int:mailing_id>/send/",
        "staff/petitions/<slug:slug>/",
        "staff/reports/mailings/<int:mailing_id>/csv/",
        "admin/members/person/<path:object_id>/change/",
    ]:
        assert route in ROUTES
