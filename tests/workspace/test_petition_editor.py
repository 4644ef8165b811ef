"""Writing a petition in the workspace: Carla (campaigner of Open Press) writes one,
saves the draft, previews it as the public will see it, publishes and closes it; a
viewer and other organisations' staff cannot; every change is audited."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from groundswell.members.models import AuditAction, AuditEntry
from groundswell.orgs.models import Organisation, Role
from groundswell.petitions.models import Petition, PetitionStatus
from tests.cast import make_org
from tests.cast import staff_client as staff

pytestmark = pytest.mark.django_db


def petition_form(org: Organisation, **changes: Any) -> dict[str, Any]:
    values = {
        "title": "Save the Riverside Library",
        "slug": "",
        "target": "the city council",
        "statement": "Keep the Riverside Library open six days a week.",
        "background": "The council plans to cut its hours[^1].\n\n[^1]: Budget paper, page 4.",
        "goal": "1000",
        "auto_raise_goal": "on",
        "consent_mode": "explicit",
        "require_postal_code": "on",
        "require_country": "on",
        "thank_you_text": "",
        "share_text": "",
        "lead": str(org.pk),
    }
    values.update(changes)
    return values


@pytest.fixture
def carla(open_press: Organisation) -> Client:
    return staff("carla", open_press)


class TestWritingAPetition:
    def test_a_campaigner_writes_a_draft_that_only_staff_can_see(
        self, carla: Client, open_press: Organisation
    ) -> None:
        response = carla.post("/staff/petitions/new/", petition_form(open_press))
        assert response.status_code == 302
        assert response["Location"] == "/staff/petitions/save-the-riverside-library/edit/"
        petition = Petition.objects.get(slug="save-the-riverside-library")
        assert petition.status == PetitionStatus.DRAFT
        assert list(petition.sponsors.all()) == [open_press]
        assert Client().get("/sign/save-the-riverside-library/").status_code == 404
        entry = AuditEntry.objects.get(action=AuditAction.PETITION_CREATED)
        assert (entry.actor, entry.organisation) == ("staff:carla", open_press)

    def test_the_preview_shows_the_draft_as_the_public_will_see_it(
        self, carla: Client, open_press: Organisation
    ) -> None:
        carla.post("/staff/petitions/new/", petition_form(open_press))
        page = carla.get("/staff/petitions/save-the-riverside-library/preview/")
        text = page.content.decode()
        assert page.status_code == 200
        assert "Staff preview (draft)" in text
        assert "Keep the Riverside Library open" in text and "Budget paper" in text
        assert page["X-Frame-Options"] == "SAMEORIGIN"
        editor = carla.get("/staff/petitions/save-the-riverside-library/edit/").content.decode()
        assert editor.count('src="/staff/petitions/save-the-riverside-library/preview/"') == 2

    def test_it_is_published_closed_and_reopened_from_the_editor(
        self, carla: Client, open_press: Organisation
    ) -> None:
        carla.post("/staff/petitions/new/", petition_form(open_press))
        url = "/staff/petitions/save-the-riverside-library/status/"
        carla.post(url, {"action": "open"})
        assert Client().get("/sign/save-the-riverside-library/").status_code == 200
        carla.post(url, {"action": "close"})
        assert Petition.objects.get().status == PetitionStatus.CLOSED
        assert carla.post(url, {"action": "explode"}).status_code == 400
        actions = list(AuditEntry.objects.order_by("pk").values_list("action", flat=True))
        assert actions[-2:] == [AuditAction.PETITION_OPENED, AuditAction.PETITION_CLOSED]

    def test_editing_changes_the_text_and_records_what_changed(
        self, carla: Client, open_press: Organisation
    ) -> None:
        carla.post("/staff/petitions/new/", petition_form(open_press))
        response = carla.post(
            "/staff/petitions/save-the-riverside-library/edit/",
            petition_form(open_press, slug="save-the-riverside-library", goal="5000"),
        )
        assert response.status_code == 302
        assert Petition.objects.get().goal == 5000
        entry = AuditEntry.objects.get(action=AuditAction.PETITION_EDITED)
        assert entry.details["changed"] == ["goal"]

    def test_it_names_what_is_missing_with_400_and_saves_nothing(
        self, carla: Client, open_press: Organisation
    ) -> None:
        response = carla.post(
            "/staff/petitions/new/", petition_form(open_press, title="", statement="")
        )
        assert response.status_code == 400
        assert "This field is required." in response.content.decode()
        assert not Petition.objects.exists()

    def test_it_refuses_an_address_that_is_taken(
        self, carla: Client, open_press: Organisation
    ) -> None:
        carla.post("/staff/petitions/new/", petition_form(open_press))
        again = carla.post("/staff/petitions/new/", petition_form(open_press))
        assert again.status_code == 400
        assert "Another petition has this address." in again.content.decode()
        reserved = carla.post("/staff/petitions/new/", petition_form(open_press, slug="new"))
        assert "is taken by the workspace" in reserved.content.decode()

    def test_sponsors_can_only_be_the_editor_s_own_organisations(
        self, carla: Client, open_press: Organisation, action_fund: Organisation
    ) -> None:
        response = carla.post(
            "/staff/petitions/new/", petition_form(action_fund, partners=[str(open_press.pk)])
        )
        assert response.status_code == 400
        assert not Petition.objects.exists()

    def test_a_viewer_or_another_organisation_cannot_write_or_change_it(
        self, carla: Client, open_press: Organisation
    ) -> None:
        carla.post("/staff/petitions/new/", petition_form(open_press))
        viewer = staff("vic", open_press, Role.VIEWER)
        assert viewer.get("/staff/petitions/new/").status_code == 404
        assert viewer.get("/staff/petitions/save-the-riverside-library/edit/").status_code == 404
        stranger = staff("eve", make_org("Elsewhere", "elsewhere"))
        for url in ("edit/", "preview/"):
            assert (
                stranger.get(f"/staff/petitions/save-the-riverside-library/{url}").status_code
                == 404
            )
        stranger.post("/staff/petitions/save-the-riverside-library/status/", {"action": "open"})
        assert Petition.objects.get().status == PetitionStatus.DRAFT


class TestUpdates:
    def test_an_update_appears_on_the_public_page_and_is_audited(
        self, carla: Client, open_press: Organisation
    ) -> None:
        from groundswell.petitions.counter import clear_process_cache
        from groundswell.petitions.pages import clear_page_cache

        carla.post("/staff/petitions/new/", petition_form(open_press))
        carla.post("/staff/petitions/save-the-riverside-library/status/", {"action": "open"})
        response = carla.post(
            "/staff/petitions/save-the-riverside-library/updates/",
            {"title": "We met the council", "body": "They listened. **Keep signing.**"},
        )
        assert response.status_code == 302
        clear_page_cache()
        clear_process_cache()
        page = Client().get("/sign/save-the-riverside-library/").content.decode()
        assert "We met the council" in page and "<strong>Keep signing.</strong>" in page
        assert AuditEntry.objects.filter(action=AuditAction.PETITION_UPDATE_POSTED).count() == 1

    def test_an_empty_update_is_refused_with_400(
        self, carla: Client, open_press: Organisation
    ) -> None:
        carla.post("/staff/petitions/new/", petition_form(open_press))
        response = carla.post(
            "/staff/petitions/save-the-riverside-library/updates/", {"title": "", "body": ""}
        )
        assert response.status_code == 400
        assert not Petition.objects.get().updates.exists()

    def test_an_update_becomes_a_draft_mailing_to_the_lead_sponsor_s_signers(
        self, carla: Client, open_press: Organisation
    ) -> None:
        from groundswell.mailings.models import Mailing, MailingStatus

        carla.post("/staff/petitions/new/", petition_form(open_press))
        carla.post(
            "/staff/petitions/save-the-riverside-library/updates/",
            {"title": "We met the council", "body": "They listened."},
        )
        update = Petition.objects.get().updates.get()
        response = carla.post(
            f"/staff/petitions/save-the-riverside-library/updates/{update.pk}/mailing/"
        )
        mailing = Mailing.objects.get()
        assert response["Location"] == f"/staff/mailings/{mailing.pk}/edit/"
        assert (mailing.status, mailing.subject, mailing.organisation) == (
            MailingStatus.DRAFT,
            "We met the council",
            open_press,
        )
        assert mailing.only_signers_of == Petition.objects.get()
        assert list(mailing.include_lists.all()) == [open_press.default_list]
        assert "They listened." in mailing.body and "{{ petition_url }}" in mailing.body

    def test_other_organisations_cannot_post_or_mail_an_update(
        self, carla: Client, open_press: Organisation
    ) -> None:
        carla.post("/staff/petitions/new/", petition_form(open_press))
        stranger = staff("eve", make_org("Elsewhere", "elsewhere"))
        response = stranger.post(
            "/staff/petitions/save-the-riverside-library/updates/", {"title": "x", "body": "y"}
        )
        assert response.status_code == 404
        assert not Petition.objects.get().updates.exists()
