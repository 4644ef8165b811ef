"""Campaign B on the demo data, as `partner` (a campaigner of Harbourlight Legal Aid, one
of its coalition partners) sees it: the petition's total, only the signers who chose
Harbourlight, none of Fieldstone Action's mailings or people by any URL, and mailings
that can go only to Harbourlight's lists. An unsubscribe from Fieldstone's email leaves
the person on Harbourlight's list."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from groundswell.demo.content import CAMPAIGN_B, FIELDSTONE, HARBOURLIGHT
from groundswell.demo.staff import ensure_demo_logins
from groundswell.lib.tokens import make_member_token
from groundswell.mailings.models import Mailing
from groundswell.members.models import Person, Subscription, SubscriptionStatus
from groundswell.petitions.counter import petition_count
from groundswell.petitions.models import Petition, Signature, SignatureStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def partner(settings: Any, tmp_path: Path) -> Client:
    settings.DATA_DIR = tmp_path
    call_command("load_demo", signatures=150, stdout=StringIO())
    ensure_demo_logins()
    client = Client()
    client.force_login(get_user_model().objects.get(username="partner"))
    return client


def chose(person: Person, org_slug: str) -> bool:
    return Subscription.objects.filter(
        person=person,
        status=SubscriptionStatus.SUBSCRIBED,
        mailing_list__organisation__slug=org_slug,
    ).exists()


def campaign_b() -> Petition:
    return Petition.objects.get(slug=CAMPAIGN_B.slug)


class TestThePartnerOnTheDemo:
    def test_the_dashboard_shows_the_total_and_only_harbourlight_s_signers(
        self, partner: Client
    ) -> None:
        petition = campaign_b()
        page = partner.get(f"/staff/petitions/{petition.slug}/")
        assert page.status_code == 200
        shown = list(page.context["signers"].paginator.object_list)
        valid = Signature.objects.filter(petition=petition, status=SignatureStatus.VALID)
        theirs = [s for s in valid.select_related("person") if chose(s.person, HARBOURLIGHT.slug)]
        others = [
            s for s in valid.select_related("person") if not chose(s.person, HARBOURLIGHT.slug)
        ]
        assert theirs and others, "the demo should have signers on both sides"
        assert {s.pk for s in shown} == {s.pk for s in theirs}
        text = page.content.decode()
        for signature in others[:20]:
            assert signature.person.email not in text
        stats = partner.get(f"/staff/petitions/{petition.slug}/stats.json").json()
        assert stats["total"] == petition_count(petition).count

    def test_no_url_reaches_fieldstone_s_mailing_or_people(self, partner: Client) -> None:
        mailing = Mailing.objects.get(organisation__slug=FIELDSTONE.slug)
        person = Subscription.objects.filter(mailing_list__organisation__slug=FIELDSTONE.slug)[0]
        for url in [
            f"/staff/mailings/{mailing.pk}/",
            f"/staff/mailings/{mailing.pk}/preview/",
            f"/staff/reports/mailings/{mailing.pk}/",
            f"/staff/reports/mailings/{mailing.pk}/csv/",
            f"/admin/members/person/{person.person_id}/change/",
            "/admin/members/person/",
            "/staff/mailbox/",
            "/staff/audit/",
            "/staff/team/",
        ]:
            assert partner.get(url).status_code == 404, url
        assert mailing.subject not in partner.get("/staff/mailings/").content.decode()

    def test_a_new_mailing_can_go_only_to_harbourlight_s_lists(self, partner: Client) -> None:
        form = partner.get("/staff/mailings/new/").context["form"]
        lists = form.fields["include_lists"].queryset
        assert lists.exists()
        assert set(lists.values_list("organisation__slug", flat=True)) == {HARBOURLIGHT.slug}
        organisations = {str(label) for _, label in form.fields["organisation"].choices if _}
        assert organisations == {HARBOURLIGHT.name}

    def test_an_unsubscribe_from_fieldstone_s_email_leaves_harbourlight_s_list(
        self, partner: Client
    ) -> None:
        mailing = Mailing.objects.get(organisation__slug=FIELDSTONE.slug)
        both = next(
            s.person
            for s in Signature.objects.filter(petition=campaign_b()).select_related("person")
            if chose(s.person, FIELDSTONE.slug) and chose(s.person, HARBOURLIGHT.slug)
        )
        response = Client().post(
            f"/unsubscribe/{make_member_token(both.pk, mailing.pk)}/",
            data="List-Unsubscribe=One-Click",
            content_type="application/x-www-form-urlencoded",
        )
        assert response.status_code == 200
        assert not chose(both, FIELDSTONE.slug)
        assert chose(both, HARBOURLIGHT.slug)

    def test_partner_s_exports_and_lists_hold_only_harbourlight_s_people(
        self, partner: Client
    ) -> None:
        import csv
        import io

        petition = campaign_b()
        response = partner.get(f"/staff/petitions/{petition.slug}/signatures.csv")
        rows = list(
            csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8")))
        )
        assert rows
        people = Person.objects.in_bulk(
            [p.pk for p in Person.objects.filter(email__in=[r["email"] for r in rows])]
        )
        assert len(people) == len(rows)
        assert all(chose(person, HARBOURLIGHT.slug) for person in people.values())
        fieldstone = f"/staff/petitions/{petition.slug}/signatures.csv?org={FIELDSTONE.slug}"
        assert partner.get(fieldstone).status_code == 404
        assert partner.get(f"/staff/petitions/{petition.slug}/delivery.pdf").status_code == 404
        lists = partner.get("/staff/lists/").context["lists"]
        assert {ml.organisation.slug for ml in lists} == {HARBOURLIGHT.slug}
