"""The public web version: stable keyed address, only once the send started, nothing personal."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from groundswell.mailings.links import web_version_path
from groundswell.mailings.models import Mailing, MailingStatus
from groundswell.mailings.rendering import prepare_mailing
from tests.cast import make_org, staff_client

pytestmark = pytest.mark.django_db


def start(mailing: Mailing) -> None:
    prepare_mailing(mailing)
    Mailing.objects.filter(pk=mailing.pk).update(
        status=MailingStatus.SENDING, started_at=timezone.now()
    )


class TestWebVersion:
    def test_it_shows_a_sent_mailing_to_anyone(self, mailing: Mailing) -> None:
        start(mailing)
        response = Client().get(web_version_path(mailing.pk))
        assert response.status_code == 200
        html = response.content.decode()
        assert "Dear friend," in html
        assert "akid" not in html
        assert "This email was sent to" not in html
        assert "default-src 'none'" in response["Content-Security-Policy"]

    def test_it_hides_a_draft(self, mailing: Mailing) -> None:
        assert Client().get(web_version_path(mailing.pk)).status_code == 404

    def test_it_shows_a_draft_to_staff_who_may_see_it_following_a_test_copy(
        self, mailing: Mailing
    ) -> None:
        response = staff_client("ana", mailing.organisation, role="viewer").get(
            web_version_path(mailing.pk)
        )
        assert response.status_code == 200
        assert "Dear friend," in response.content.decode()
        # It changes with each edit and is not for everyone: no cache keeps it.
        assert response["Cache-Control"] == "private, no-store"

    def test_it_hides_a_draft_from_staff_of_another_organisation(self, mailing: Mailing) -> None:
        other = make_org("Other Voice", "other-voice")
        client = staff_client("eve", other)
        assert client.get(web_version_path(mailing.pk)).status_code == 404

    def test_it_refuses_a_guessed_address(self, mailing: Mailing) -> None:
        start(mailing)
        assert Client().get(f"/mail/{mailing.pk}-000000000000/").status_code == 404
        assert Client().get(f"/mail/{mailing.pk}/").status_code == 404

    def test_the_email_links_to_it(self, mailing: Mailing) -> None:
        start(mailing)
        prepared = prepare_mailing(mailing)
        (web,) = [link for link in prepared.links if link.kind == "web-version"]
        assert web.url == "http://testserver" + web_version_path(mailing.pk)
        response = Client().get(f"/go/{mailing.pk}/{web.number}/")
        assert response.status_code == 302
        assert response["Location"] == web.url
