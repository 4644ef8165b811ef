"""The kill switches in the staff workspace: signing on the petition dashboard, sending
on the mailings list; only for those who may write for the organisation."""

from __future__ import annotations

import pytest

from groundswell.mailings.models import Mailing, MailingStatus
from groundswell.members.models import AuditAction, AuditEntry
from groundswell.orgs.models import Organisation
from groundswell.petitions.models import Petition
from tests.cast import default_list, make_mailing, make_org, staff_client

pytestmark = pytest.mark.django_db


class TestSigningButton:
    def test_a_campaigner_switches_signing_off_and_on_from_the_dashboard(
        self, petition: Petition, open_press: Organisation
    ) -> None:
        client = staff_client("alice", open_press)
        dashboard = f"/staff/petitions/{petition.slug}/"
        assert "Switch signing off" in client.get(dashboard).content.decode()

        response = client.post(f"{dashboard}signing/", {"signing": "off"})

        assert response.status_code == 302
        petition.refresh_from_db()
        assert petition.signing_off
        assert "Switch signing on again" in client.get(dashboard).content.decode()
        entry = AuditEntry.objects.get(action=AuditAction.SIGNING_SWITCHED_OFF)
        assert entry.actor == "staff:alice"
        client.post(f"{dashboard}signing/", {"signing": "on"})
        petition.refresh_from_db()
        assert not petition.signing_off

    def test_a_viewer_sees_no_button_and_cannot_switch(
        self, petition: Petition, open_press: Organisation
    ) -> None:
        client = staff_client("victor", open_press, role="viewer")
        dashboard = f"/staff/petitions/{petition.slug}/"
        assert "Switch signing off" not in client.get(dashboard).content.decode()
        assert client.post(f"{dashboard}signing/", {"signing": "off"}).status_code == 404
        petition.refresh_from_db()
        assert not petition.signing_off


class TestSendingButtons:
    def test_a_campaigner_pauses_and_resumes_only_their_organisations_mailings(self) -> None:
        ours, theirs = make_org(), make_org("Other Voice", "other-voice")
        mine = make_mailing(ours, default_list(ours), status=MailingStatus.SENDING, petition=None)
        other = make_mailing(
            theirs, default_list(theirs), status=MailingStatus.SENDING, petition=None
        )
        client = staff_client("alice", ours)
        assert "Pause all sending" in client.get("/staff/mailings/").content.decode()

        client.post("/staff/mailings/switch/", {"action": "pause-all"})

        assert status(mine) == MailingStatus.PAUSED
        assert status(other) == MailingStatus.SENDING
        client.post("/staff/mailings/switch/", {"action": "resume-all"})
        assert status(mine) == MailingStatus.SENDING

    def test_a_viewer_sees_no_buttons_and_cannot_pause(self) -> None:
        org = make_org()
        mailing = make_mailing(org, default_list(org), status=MailingStatus.SENDING, petition=None)
        client = staff_client("victor", org, role="viewer")
        assert "Pause all sending" not in client.get("/staff/mailings/").content.decode()
        assert client.post("/staff/mailings/switch/", {"action": "pause-all"}).status_code == 404
        assert status(mailing) == MailingStatus.SENDING


def status(mailing: Mailing) -> str:
    mailing.refresh_from_db()
    return mailing.status
