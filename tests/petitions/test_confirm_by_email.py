"""Confirmation by email: a signature waits, out of the count, until its signer presses
the button on the page their email links to; opening the link confirms nothing, and
unconfirmed signatures expire so the address may sign again."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from groundswell.lib.tokens import make_member_token
from groundswell.members.actions.privacy import do_erase_person
from groundswell.members.models import ConsentEvent, Person, Subscription
from groundswell.petitions.actions.confirming import (
    Confirmed,
    do_confirm_signature,
    do_expire_unconfirmed_signatures,
)
from groundswell.petitions.actions.signing import (
    PendingSignature,
    SignatureDetails,
    do_sign_petition,
    do_sign_petitions,
    prepare_signature,
)
from groundswell.petitions.actions.thanks import CONFIRMATION_EMAILS_MAX
from groundswell.petitions.confirmations import make_confirmation_token
from groundswell.petitions.counter import petition_count, recent_signers
from groundswell.petitions.exports import signature_rows
from groundswell.petitions.models import (
    Petition,
    PetitionStatus,
    Signature,
    SignatureConfirmation,
    SignatureStatus,
)
from groundswell.tasks import prune_task_results
from tests.cast import make_person
from tests.petitions.conftest import sign_data

pytestmark = pytest.mark.django_db

CHARLIE = SignatureDetails(
    email="charlie@example.org",
    first_name="Charlie",
    last_name="Stranger",
    consents=frozenset({"open-press"}),
    show_name=True,
)


@pytest.fixture
def confirming(petition: Petition) -> Petition:
    petition.confirm_by_email = True
    petition.save()
    return petition


def sign(petition: Petition, capture: Any, client: Client | None = None, **fields: str) -> Any:
    """Charlie signs on the page; the response to his POST."""
    with capture(execute=True):
        return (client or Client()).post(
            f"/sign/{petition.slug}/",
            sign_data(petition, **{"consent_open-press": "on", **fields}),
        )


def link_in(message: Any) -> str:
    [path] = re.findall(r"http://testserver(/sign/confirm/[^/\s]+/)", message.body)
    return path


class TestSigning:
    def test_it_writes_the_signature_pending_and_out_of_the_count(
        self, confirming: Petition, django_capture_on_commit_callbacks: Any, exact_counts: None
    ) -> None:
        response = sign(confirming, django_capture_on_commit_callbacks)

        assert response.status_code == 303
        assert response["Location"] == f"/sign/{confirming.slug}/check-email/"
        signature = Signature.objects.get()
        assert signature.status == SignatureStatus.PENDING
        assert signature.confirmed_at is None
        assert petition_count(confirming).count == 0
        assert recent_signers(confirming) == []

    def test_a_member_who_came_by_our_emailed_link_has_nothing_to_confirm(
        self, confirming: Petition, django_capture_on_commit_callbacks: Any
    ) -> None:
        katy = make_person("katy@example.org", "Katy", postal_code="LS1 4AP", country="GB")
        client = Client()
        client.get(f"/sign/{confirming.slug}/?akid={make_member_token(katy.pk, 29208)}")
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(f"/sign/{confirming.slug}/", {"akid": ""})

        assert response.status_code == 303
        assert response["Location"] == f"/sign/{confirming.slug}/thanks/"
        assert Signature.objects.get().status == SignatureStatus.VALID

    def test_it_records_no_consent_before_confirmation(
        self, confirming: Petition, django_capture_on_commit_callbacks: Any
    ) -> None:
        sign(confirming, django_capture_on_commit_callbacks)

        assert not Subscription.objects.exists()
        assert not ConsentEvent.objects.exists()
        [kept] = SignatureConfirmation.objects.all()
        assert [list_id for list_id, _ in kept.consents] != []

    def test_it_leaves_pending_signatures_out_of_the_export(
        self, confirming: Petition, django_capture_on_commit_callbacks: Any
    ) -> None:
        sign(confirming, django_capture_on_commit_callbacks)

        assert len(list(signature_rows(confirming, None))) == 1  # the header only

    def test_it_asks_the_signer_to_check_their_email_without_naming_the_address(
        self, confirming: Petition, django_capture_on_commit_callbacks: Any
    ) -> None:
        client = Client()
        response = sign(confirming, django_capture_on_commit_callbacks, client=client)

        page = client.get(response["Location"])
        html = page.content.decode()
        assert page.status_code == 200
        assert "Check your email" in html
        assert "charlie@example.org" not in html.lower()

    def test_it_emails_a_confirmation_link_in_plain_text_and_html(
        self, confirming: Petition, django_capture_on_commit_callbacks: Any
    ) -> None:
        sign(confirming, django_capture_on_commit_callbacks)

        [message] = mail.outbox
        assert message.to == ["charlie@example.org"]
        assert message.subject == "Please confirm your signature: Cancel the contract"
        assert "Dear Charlie," in message.body
        [(html, kind)] = message.alternatives
        assert kind == "text/html"
        assert link_in(message) in html

    def test_it_is_off_unless_the_site_or_the_petition_turns_it_on(
        self, petition: Petition, settings: Any
    ) -> None:
        settings.SIGN_CONFIRM_BY_EMAIL = False
        assert do_sign_petition(petition, CHARLIE).signature.status == SignatureStatus.VALID

    def test_the_sites_default_applies_to_a_petition_that_leaves_it_blank(
        self, petition: Petition, settings: Any
    ) -> None:
        settings.SIGN_CONFIRM_BY_EMAIL = True

        result = do_sign_petition(petition, CHARLIE)

        assert result.signature.status == SignatureStatus.PENDING

    def test_the_petitions_choice_overrides_the_sites(
        self, petition: Petition, settings: Any
    ) -> None:
        settings.SIGN_CONFIRM_BY_EMAIL = True
        petition.confirm_by_email = False
        petition.save()

        assert do_sign_petition(petition, CHARLIE).signature.status == SignatureStatus.VALID

    def test_signing_again_while_pending_sends_the_link_again_but_signs_once(
        self, confirming: Petition, django_capture_on_commit_callbacks: Any
    ) -> None:
        capture = django_capture_on_commit_callbacks
        first = sign(confirming, capture)
        SignatureConfirmation.objects.update(emailed_at=timezone.now() - timedelta(hours=1))

        again = sign(confirming, capture, email=" Charlie@EXAMPLE.org")

        assert again["Location"] == first["Location"]
        assert Signature.objects.count() == 1
        assert [m.subject for m in mail.outbox] == [
            "Please confirm your signature: Cancel the contract"
        ] * 2
        assert link_in(mail.outbox[0]) == link_in(mail.outbox[1])

    def test_signing_again_and_again_cannot_fill_the_inbox(
        self, confirming: Petition, django_capture_on_commit_callbacks: Any
    ) -> None:
        capture = django_capture_on_commit_callbacks
        for _ in range(CONFIRMATION_EMAILS_MAX + 3):
            sign(confirming, capture)
            SignatureConfirmation.objects.update(emailed_at=timezone.now() - timedelta(hours=1))

        assert len(mail.outbox) == CONFIRMATION_EMAILS_MAX

    def test_signing_again_at_once_sends_nothing_more(
        self, confirming: Petition, django_capture_on_commit_callbacks: Any
    ) -> None:
        sign(confirming, django_capture_on_commit_callbacks)
        sign(confirming, django_capture_on_commit_callbacks)

        assert len(mail.outbox) == 1

    def test_one_pending_signature_among_others_written_together_fails_none(
        self, confirming: Petition, petition_without_confirmation: Petition
    ) -> None:
        pending = [
            prepare_signature(confirming, CHARLIE),
            prepare_signature(
                petition_without_confirmation,
                SignatureDetails(email="dana@example.org", first_name="Dana", last_name="X"),
            ),
            prepare_signature(confirming, CHARLIE),
        ]

        results = do_sign_petitions(pending)

        assert [r.already_signed for r in results] == [False, False, True]
        assert {(s.petition_id, s.status) for s in Signature.objects.all()} == {
            (confirming.pk, SignatureStatus.PENDING),
            (petition_without_confirmation.pk, SignatureStatus.VALID),
        }

    def test_the_choice_travels_to_the_writer_process(self, confirming: Petition) -> None:
        wired = PendingSignature.from_wire(prepare_signature(confirming, CHARLIE).to_wire())

        assert wired.confirm is True


@pytest.fixture
def petition_without_confirmation(open_press: Any) -> Petition:
    from tests import cast

    return cast.make_petition("save-the-library", sponsors=[open_press])


def pending_link(petition: Petition) -> str:
    signature = do_sign_petition(petition, CHARLIE).signature
    assert signature is not None
    signature.refresh_from_db()
    return f"/sign/confirm/{make_confirmation_token(signature)}/"


class TestConfirmPage:
    def test_opening_the_link_shows_the_petition_and_a_button_and_confirms_nothing(
        self, confirming: Petition, exact_counts: None
    ) -> None:
        link = pending_link(confirming)

        for method in ("get", "head"):
            response = getattr(Client(), method)(link)
            assert response.status_code == 200
        html = Client().get(link).content.decode()
        assert "Cancel the contract" in html
        assert "Confirm my signature" in html
        assert 'method="post"' in html
        assert Signature.objects.get().status == SignatureStatus.PENDING
        assert petition_count(confirming).count == 0
        assert not ConsentEvent.objects.exists()

    def test_pressing_the_button_confirms_counts_records_consent_and_thanks(
        self, confirming: Petition, exact_counts: None, django_capture_on_commit_callbacks: Any
    ) -> None:
        link = pending_link(confirming)

        with django_capture_on_commit_callbacks(execute=True):
            response = Client().post(link)

        assert response.status_code == 303
        assert response["Location"] == f"/sign/{confirming.slug}/thanks/"
        signature = Signature.objects.get()
        assert signature.status == SignatureStatus.VALID
        assert signature.confirmed_at is not None
        assert petition_count(confirming).count == 1
        assert [s.name for s in recent_signers(confirming)] == ["Charlie S."]
        [event] = ConsentEvent.objects.all()
        assert event.source == f"petition:{confirming.slug}"
        assert event.wording
        assert not SignatureConfirmation.objects.exists()
        assert [m.subject for m in mail.outbox] == ["Thank you for signing: Cancel the contract"]

    def test_the_button_needs_the_pages_csrf_token(self, confirming: Petition) -> None:
        link = pending_link(confirming)

        response = Client(enforce_csrf_checks=True).post(link)

        assert response.status_code == 403
        assert Signature.objects.get().status == SignatureStatus.PENDING

    def test_confirming_twice_is_harmless(
        self, confirming: Petition, django_capture_on_commit_callbacks: Any
    ) -> None:
        link = pending_link(confirming)
        with django_capture_on_commit_callbacks(execute=True):
            Client().post(link)
            again = Client().post(link)

        assert again.status_code == 303
        assert ConsentEvent.objects.count() == 1
        assert len(mail.outbox) == 1
        assert "Your signature is confirmed" in Client().get(link).content.decode()

    def test_a_forged_link_is_not_found(self, confirming: Petition) -> None:
        link = pending_link(confirming)
        forged = link[:-3] + ("A" if link[-3] != "A" else "B") + link[-2:]

        for response in (Client().get(forged), Client().post(forged)):
            assert response.status_code == 404
        assert Client().get("/sign/confirm/nonsense/").status_code == 404
        assert Signature.objects.get().status == SignatureStatus.PENDING

    def test_an_expired_link_is_gone_and_confirms_nothing(
        self, confirming: Petition, settings: Any
    ) -> None:
        link = pending_link(confirming)
        Signature.objects.update(created_at=timezone.now() - timedelta(days=8))
        signature = Signature.objects.get()
        link = f"/sign/confirm/{make_confirmation_token(signature)}/"

        page = Client().get(link)
        pressed = Client().post(link)

        assert page.status_code == 410
        assert pressed.status_code == 410
        assert "expired" in page.content.decode()
        assert Signature.objects.get().status == SignatureStatus.PENDING

    def test_a_link_whose_signature_expired_and_went_is_gone(self, confirming: Petition) -> None:
        link = pending_link(confirming)
        Signature.objects.all().delete()

        assert Client().get(link).status_code == 410

    def test_a_closed_petition_takes_no_confirmation(self, confirming: Petition) -> None:
        link = pending_link(confirming)
        Petition.objects.filter(pk=confirming.pk).update(status=PetitionStatus.CLOSED)

        page = Client().get(link)
        response = Client().post(link)

        assert page.status_code == 409
        assert "Confirm my signature" not in page.content.decode()
        assert response.status_code == 409
        assert Signature.objects.get().status == SignatureStatus.PENDING

    def test_staff_cannot_restore_a_pending_signature_into_the_count(
        self, confirming: Petition
    ) -> None:
        from groundswell.petitions.actions.signatures import do_restore_signatures

        pending_link(confirming)

        assert do_restore_signatures("admin", [Signature.objects.get().pk]) == 0
        assert Signature.objects.get().status == SignatureStatus.PENDING


class TestExpiry:
    def test_it_removes_unconfirmed_signatures_and_frees_the_address_to_sign_again(
        self, confirming: Petition, settings: Any
    ) -> None:
        settings.SIGN_CONFIRM_DAYS = 7
        pending_link(confirming)
        Signature.objects.update(created_at=timezone.now() - timedelta(days=7, minutes=1))

        assert do_expire_unconfirmed_signatures() == 1
        assert not Signature.objects.exists()
        # Someone who never confirmed is someone we never met.
        assert not Person.objects.exists()

        result = do_sign_petition(confirming, CHARLIE)
        assert not result.already_signed
        assert Signature.objects.get().status == SignatureStatus.PENDING

    def test_it_keeps_signatures_younger_than_the_period(
        self, confirming: Petition, settings: Any
    ) -> None:
        settings.SIGN_CONFIRM_DAYS = 7
        pending_link(confirming)
        Signature.objects.update(created_at=timezone.now() - timedelta(days=6))

        assert do_expire_unconfirmed_signatures() == 0
        assert Signature.objects.count() == 1

    def test_it_keeps_a_person_with_other_reasons_to_stay(
        self, confirming: Petition, petition_without_confirmation: Petition
    ) -> None:
        do_sign_petition(petition_without_confirmation, CHARLIE)
        do_sign_petition(confirming, CHARLIE)
        Signature.objects.filter(petition=confirming).update(
            created_at=timezone.now() - timedelta(days=30)
        )

        assert do_expire_unconfirmed_signatures() == 1
        assert Person.objects.count() == 1
        assert Signature.objects.get().petition_id == petition_without_confirmation.pk

    def test_the_hourly_retention_task_runs_it(self, confirming: Petition) -> None:
        pending_link(confirming)
        Signature.objects.update(created_at=timezone.now() - timedelta(days=30))

        prune_task_results.call()

        assert not Signature.objects.exists()

    def test_a_confirmed_signature_never_expires(self, confirming: Petition) -> None:
        signature = do_sign_petition(confirming, CHARLIE).signature
        assert signature is not None
        assert do_confirm_signature(signature.pk) == Confirmed.NOW
        Signature.objects.update(created_at=timezone.now() - timedelta(days=30))

        assert do_expire_unconfirmed_signatures() == 0
        assert Signature.objects.get().status == SignatureStatus.VALID


class TestErasure:
    def test_erasing_a_signer_removes_their_pending_signature_and_its_kept_consent(
        self, confirming: Petition
    ) -> None:
        pending_link(confirming)

        do_erase_person(Person.objects.get(), actor="test")

        assert not Signature.objects.exists()
        assert not SignatureConfirmation.objects.exists()

    def test_merging_two_people_drops_a_pending_duplicate_and_what_it_kept(
        self, confirming: Petition
    ) -> None:
        from groundswell.members.actions.profile import do_change_email

        katy = Person.objects.get(pk=do_sign_petition(confirming, CHARLIE).person_id)
        do_confirm_signature(Signature.objects.get().pk)
        work = SignatureDetails(email="katy@work.example", first_name="Katy", last_name="L")
        do_sign_petition(confirming, work)

        do_change_email(katy, "katy@work.example", actor="self")

        assert Signature.objects.get().status == SignatureStatus.VALID
        assert not SignatureConfirmation.objects.exists()


class TestTheEditor:
    def test_staff_turn_it_on_for_one_petition_or_leave_it_to_the_site(
        self, open_press: Any, settings: Any
    ) -> None:
        from tests.cast import staff_client
        from tests.workspace.test_petition_editor import petition_form

        settings.SIGN_CONFIRM_BY_EMAIL = False
        carla = staff_client("carla", open_press)
        carla.post("/staff/petitions/new/", petition_form(open_press))
        url = "/staff/petitions/save-the-riverside-library/edit/"
        html = carla.get(url).content.decode()
        assert 'name="confirm_by_email"' in html
        assert "The site&#x27;s default (now off)" in html

        carla.post(url, petition_form(open_press, confirm_by_email="true"))
        assert Petition.objects.get().confirm_by_email is True

        carla.post(url, petition_form(open_press, confirm_by_email="unknown"))
        assert Petition.objects.get().confirm_by_email is None
