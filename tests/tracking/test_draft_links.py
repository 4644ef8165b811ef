"""/go/ serves only links of mailings that went out: a draft's links change with every
edit and nobody was sent them."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from groundswell.mailings.models import MailingStatus, TrackedLink
from groundswell.orgs.models import Organisation
from groundswell.tracking.models import Click
from groundswell.tracking.recording import flush_all
from tests.cast import PASSWORD, make_org, staff_client
from tests.tracking.cast import Cast

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(cast: Cast) -> Cast:
    cast.mailing.status = MailingStatus.DRAFT
    cast.mailing.save(update_fields=["status"])
    return cast


class TestDraftLinks:
    def test_it_does_not_serve_a_link_of_a_draft(self, client: Client, draft: Cast) -> None:
        response = client.get(f"/go/{draft.mailing.pk}/2/?akid={draft.token(draft.bob)}")
        assert response.status_code == 404
        flush_all()
        assert not Click.objects.exists()

    def test_it_tells_someone_signed_out_that_it_is_a_test_copy_s_link_and_offers_to_sign_in(
        self, client: Client, draft: Cast
    ) -> None:
        path = f"/go/{draft.mailing.pk}/2/?akid={draft.token(draft.bob)}"
        response = client.get(path)
        page = response.content.decode()
        assert response.status_code == 404
        assert "test copy of a mailing that has not been sent yet" in page
        assert f'href="/staff/login/?{urlencode({"next": path})}"' in page.replace("&amp;", "&")
        # Where it leads is for staff only.
        assert draft.links[1].url not in page

    def test_the_sign_in_it_offers_leads_back_to_the_link(
        self, client: Client, draft: Cast
    ) -> None:
        path = f"/go/{draft.mailing.pk}/2/"
        staff_client("alice", draft.mailing.organisation, role="viewer")
        response = client.post(
            "/staff/login/", {"username": "alice", "password": PASSWORD, "next": path}
        )
        assert response.status_code == 302
        assert response["Location"] == path
        assert client.get(path)["Location"] == draft.links[1].url

    def test_it_asks_the_database_about_a_draft_s_link_once_in_a_while_not_at_each_request(
        self, client: Client, draft: Cast
    ) -> None:
        path = f"/go/{draft.mailing.pk}/2/"
        client.get(path)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(path).status_code == 404
        assert not [q for q in queries if TrackedLink._meta.db_table in q["sql"]]

    def test_an_unknown_link_is_still_unknown(self, client: Client, draft: Cast) -> None:
        response = client.get(f"/go/{draft.mailing.pk}/99/")
        assert response.status_code == 404
        assert "This link is not known" in response.content.decode()

    def test_it_serves_the_same_link_once_the_mailing_is_sent(self, client, draft) -> None:
        draft.mailing.status = MailingStatus.SENDING
        draft.mailing.save(update_fields=["status"])
        assert client.get(f"/go/{draft.mailing.pk}/2/").status_code == 302

    def test_staff_of_the_organisation_follow_it_from_a_test_copy_without_a_click(
        self, draft: Cast
    ) -> None:
        staff = staff_client("alice", draft.mailing.organisation, role="viewer")
        response = staff.get(f"/go/{draft.mailing.pk}/2/")
        assert response.status_code == 302
        assert response["Location"] == draft.links[1].url
        flush_all()
        assert not Click.objects.exists()

    def test_staff_of_another_organisation_do_not(self, draft: Cast) -> None:
        other: Organisation = make_org("Other Voice", "other-voice")
        response = staff_client("eve", other).get(f"/go/{draft.mailing.pk}/2/")
        assert response.status_code == 404
        page = response.content.decode()
        assert "Your account cannot see this mailing" in page
        assert draft.links[1].url not in page


class TestHostileLinkNumbers:
    @pytest.mark.parametrize(
        "path", ["/go/99999999999999999999/1/", "/go/{m}/99999999999999999999/"]
    )
    def test_a_number_the_database_cannot_hold_is_an_unknown_link(self, client, cast, path):
        assert client.get(path.format(m=cast.mailing.pk)).status_code == 404
