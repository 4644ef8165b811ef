from __future__ import annotations

import re

import pytest
from django.core import mail

from groundswell.lib.tokens import make_member_token
from groundswell.members.actions.consent import do_subscribe
from groundswell.members.actions.people import PersonDetails, do_find_or_create_person
from groundswell.members.models import AuditEntry, ConsentEvent, Person
from tests.cast import make_org, make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


@pytest.fixture
def katy():
    person = make_person(
        "katy@example.org",
        "Katy",
        "Lindqvist",
        address="7 Orchard Row, Leeds",
        postal_code="LS1 4AP",
        country="GB",
    )
    return person


def link_in(message, path: str) -> str:
    match = re.search(rf"http://testserver({path}[^\s]+/)", message.body)
    assert match, message.body
    return match[1]


def confirmation_link(message) -> str:
    return link_in(message, "/profile/confirm-email/")


def mail_to(address: str) -> list:
    return [m for m in mail.outbox if m.to == [address]]


def edit_link(client, katy, on_commit) -> str:
    """What Katy does first: ask from her member link for a link, which goes to her."""
    with on_commit(execute=True):
        client.post(f"/profile/{make_member_token(katy.pk)}/")
    [message] = mail_to(katy.email)
    assert message.subject == "Change your details"
    mail.outbox.clear()
    return link_in(message, "/profile/edit/")


def change_email(client, katy, on_commit, new_email: str) -> None:
    link = edit_link(client, katy, on_commit)
    with on_commit(execute=True):
        client.post(link, {"new_email": new_email})


class TestProfilePage:
    def test_it_greets_by_first_name_and_never_shows_what_we_hold(self, client, katy):
        response = client.get(f"/profile/{make_member_token(katy.pk)}/")
        assert response.status_code == 200
        content = response.content.decode()
        assert "Katy" in content
        for secret in ("katy@example.org", "Lindqvist", "Orchard", "LS1 4AP"):
            assert secret not in content

    def test_a_member_link_changes_nothing_and_sends_a_link_to_the_address_on_file(
        self, client, katy, on_commit
    ):
        with on_commit(execute=True):
            response = client.post(
                f"/profile/{make_member_token(katy.pk)}/",
                {"postal_code": "EV1 1IL", "new_email": "someone@else.example"},
            )
        assert response.status_code == 200
        assert "We have sent a link to the address we have for you" in response.content.decode()
        assert "katy@example.org" not in response.content.decode()
        katy.refresh_from_db()
        assert (katy.postal_code, katy.email) == ("LS1 4AP", "katy@example.org")
        assert [m.to for m in mail.outbox] == [["katy@example.org"]]

    def test_the_emailed_link_changes_only_the_fields_filled_in_and_then_is_used_up(
        self, client, katy, on_commit
    ):
        link = edit_link(client, katy, on_commit)
        assert client.get(link).status_code == 200
        response = client.post(link, {"postal_code": "LS2 9JT", "country": "gb"})
        assert response.status_code == 200
        assert "This link is now used up" in response.content.decode()
        katy.refresh_from_db()
        assert (katy.postal_code, katy.country, katy.last_name) == ("LS2 9JT", "GB", "Lindqvist")
        assert AuditEntry.objects.filter(action="profile-updated", actor="self").exists()
        assert client.get(link).status_code == 404
        assert client.post(link, {"postal_code": "EV1 1IL"}).status_code == 404
        katy.refresh_from_db()
        assert katy.postal_code == "LS2 9JT"

    def test_it_rejects_a_bad_country_with_400_and_a_message(self, client, katy, on_commit):
        link = edit_link(client, katy, on_commit)
        response = client.post(link, {"country": "Britain"})
        assert response.status_code == 400
        assert b"two-letter country code" in response.content
        katy.refresh_from_db()
        assert katy.country == "GB"
        # A refused form uses nothing up.
        assert client.get(link).status_code == 200

    def test_a_staff_preview_link_says_so_and_changes_nothing(self, client, katy):
        for page in ("profile", "subscriptions", "unsubscribe"):
            response = client.post(f"/{page}/preview/", {"new_email": "x@y.example"})
            assert response.status_code == 200
            assert "This is a preview" in response.content.decode()
        katy.refresh_from_db()
        assert katy.email == "katy@example.org"


class TestEmailChange:
    def test_it_changes_nothing_until_the_new_address_confirms(self, client, katy, on_commit):
        change_email(client, katy, on_commit, "katy@new.example")
        katy.refresh_from_db()
        assert katy.email == "katy@example.org"
        recipients = sorted(m.to[0] for m in mail.outbox)
        assert recipients == ["katy@example.org", "katy@new.example"]
        link = confirmation_link(mail_to("katy@new.example")[0])
        page = client.get(link)
        assert page.status_code == 200
        katy.refresh_from_db()
        assert katy.email == "katy@example.org"
        with on_commit(execute=True):
            assert client.post(link).status_code == 200
        katy.refresh_from_db()
        assert (katy.email, katy.email_normalised) == ("katy@new.example", "katy@new.example")
        # The old address hears of it, with a link to undo it.
        assert [m.subject for m in mail_to("katy@example.org")] == [
            "Your email address is being changed",
            "Your email address was changed",
        ]
        # Used once, the confirmation link is spent.
        assert client.post(link).status_code == 404

    def test_the_old_address_can_stop_it_before_it_is_confirmed(self, client, katy, on_commit):
        change_email(client, katy, on_commit, "katy@new.example")
        cancel = link_in(mail_to("katy@example.org")[0], "/profile/cancel-email/")
        assert client.post(cancel).status_code == 200
        assert client.post(confirmation_link(mail_to("katy@new.example")[0])).status_code == 404
        katy.refresh_from_db()
        assert katy.email == "katy@example.org"

    def test_the_old_address_can_undo_it_after_it_was_confirmed(self, client, katy, on_commit):
        change_email(client, katy, on_commit, "katy@new.example")
        with on_commit(execute=True):
            client.post(confirmation_link(mail_to("katy@new.example")[0]))
        [done] = [m for m in mail_to("katy@example.org") if "was changed" in m.subject]
        assert client.post(link_in(done, "/profile/cancel-email/")).status_code == 200
        katy.refresh_from_db()
        assert katy.email == "katy@example.org"

    def test_it_merges_with_the_person_who_had_that_address_keeping_both_histories(
        self, client, katy, on_commit
    ):
        other, _ = do_find_or_create_person(PersonDetails(email="KATY@work.example"), source="t")
        org = make_org("Open-Press", "open-press")
        do_subscribe(katy, org.default_list, source="a", wording="Yes from the first address")
        do_subscribe(other, org.default_list, source="b", wording="Yes from the second address")
        change_email(client, katy, on_commit, "katy@work.example")
        client.post(confirmation_link(mail_to("katy@work.example")[0]))
        katy.refresh_from_db()
        assert katy.email_normalised == "katy@work.example"
        assert not Person.objects.filter(pk=other.pk).exists()
        subscription = katy.subscriptions.get()
        assert sorted(subscription.events.values_list("wording", flat=True)) == [
            "Yes from the first address",
            "Yes from the second address",
        ]
        assert ConsentEvent.objects.count() == 2

    def test_a_tampered_confirmation_link_changes_nothing(self, client, katy, on_commit):
        change_email(client, katy, on_commit, "evil@example.net")
        link = confirmation_link(mail_to("evil@example.net")[0])
        response = client.post(link.replace("confirm-email/", "confirm-email/x"))
        assert response.status_code == 404
        katy.refresh_from_db()
        assert katy.email == "katy@example.org"


class TestTheTakeoverFromAForwardedLink:
    """Katy forwards a mailing; Eve holds her member link. Eve tries what used to work:
    change Katy's email on /profile/ to her own, confirm it, ask /privacy/ for a copy of
    Katy's data at the new address. Each step fails on its own."""

    def test_step_1_the_member_link_cannot_change_the_email(self, client, katy, on_commit):
        with on_commit(execute=True):
            client.post(
                f"/profile/{make_member_token(katy.pk, 3)}/", {"new_email": "eve@evil.example"}
            )
        assert mail_to("eve@evil.example") == []
        katy.refresh_from_db()
        assert katy.email == "katy@example.org"

    def test_step_2_a_change_confirmed_by_eve_is_undone_from_katy_s_address(
        self, client, katy, on_commit
    ):
        # Suppose Eve got the edit link too (Katy forwarded that email as well).
        change_email(client, katy, on_commit, "eve@evil.example")
        with on_commit(execute=True):
            client.post(confirmation_link(mail_to("eve@evil.example")[0]))
        [done] = [m for m in mail_to("katy@example.org") if "was changed" in m.subject]
        client.post(link_in(done, "/profile/cancel-email/"))
        katy.refresh_from_db()
        assert katy.email == "katy@example.org"

    def test_step_3_no_copy_of_the_data_goes_to_an_address_changed_within_two_weeks(
        self, client, katy, on_commit
    ):
        change_email(client, katy, on_commit, "eve@evil.example")
        with on_commit(execute=True):
            client.post(confirmation_link(mail_to("eve@evil.example")[0]))
        mail.outbox.clear()
        with on_commit(execute=True):
            client.post("/privacy/", {"email": "eve@evil.example", "kind": "export"})
        [message] = mail.outbox
        assert "/privacy/confirm/" not in message.body
        assert "we send no copy to it until" in message.body
        # A link asked for before the change is refused at the button too.
        from groundswell.members.emails import privacy_link

        katy.refresh_from_db()
        link = privacy_link(katy.pk, "export").split("testserver", 1)[1]
        response = client.post(link, {"format": "json"})
        assert "Content-Disposition" not in response
        assert "less than two weeks ago" in response.content.decode()
