from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from groundswell.members.models import ConsentEvent, Person, Subscription
from groundswell.orgs.models import Organisation
from groundswell.petitions.actions.signing import (
    PetitionNotOpen,
    SignatureDetails,
    do_sign_petition,
)
from groundswell.petitions.consent import explicit_sentence, notice_sentence
from groundswell.petitions.models import Petition, PetitionCount, Signature
from groundswell.petitions.referrals import make_referral_code
from tests.cast import make_org, make_person, make_petition


def charlie(**overrides: Any) -> SignatureDetails:
    fields: dict[str, Any] = {
        "email": "charlie@example.org",
        "first_name": "Charlie",
        "last_name": "Stranger",
        "postal_code": "AB1 2CD",
        "country": "gb",
    }
    fields.update(overrides)
    return SignatureDetails(**fields)


@pytest.mark.django_db
class TestDoSignPetition:
    def test_it_creates_the_person_and_the_signature(self, petition: Petition) -> None:
        result = do_sign_petition(petition, charlie(comment="  Because.  ", show_name=True))

        assert not result.already_signed
        signature = Signature.objects.get()
        assert signature == result.signature
        assert signature.petition == petition
        assert signature.comment == "Because."
        assert signature.show_name is True
        person = signature.person
        assert person.email_normalised == "charlie@example.org"
        assert (person.first_name, person.last_name, person.country) == (
            "Charlie",
            "Stranger",
            "GB",
        )
        assert person.source == "petition:cancel-the-contract"

    def test_it_counts_the_same_address_once_whatever_its_case_or_spaces(
        self, petition: Petition
    ) -> None:
        do_sign_petition(petition, charlie(consents={"open-press"}))

        again = do_sign_petition(
            petition,
            charlie(email="  CHARLIE@Example.ORG ", first_name="Eve", consents={"open-press-fund"}),
        )

        assert again.already_signed
        assert again.signature is None
        assert Signature.objects.count() == 1
        assert Person.objects.get().first_name == "Charlie"
        # Nothing new at all, not even the second box's consent.
        assert ConsentEvent.objects.count() == 1

    def test_it_signs_for_someone_already_known_from_elsewhere(self, petition: Petition) -> None:
        bob = make_person("bob@example.org", "Bob", source="import")

        result = do_sign_petition(petition, charlie(email="Bob@example.org", first_name="Robert"))

        assert result.person == bob
        bob.refresh_from_db()
        assert bob.first_name == "Bob"  # an email alone must not rename someone
        assert bob.last_name == "Stranger"  # blanks are filled in

    def test_it_records_consent_for_each_ticked_organisation_as_worded(
        self, petition: Petition, open_press: Organisation, action_fund: Organisation
    ) -> None:
        do_sign_petition(
            petition, charlie(consents={"open-press", "open-press-fund"}), ip_address="192.0.2.7"
        )

        events = ConsentEvent.objects.select_related("subscription__mailing_list__organisation")
        assert events.count() == 2
        for event in events:
            org = event.subscription.mailing_list.organisation
            assert event.subscription.mailing_list.is_default
            assert event.kind == "subscribed"
            assert event.source == "petition:cancel-the-contract"
            assert event.ip_address == "192.0.2.7"
            assert event.wording.startswith(explicit_sentence(org))
            assert org.privacy_policy_url in event.wording

    def test_it_subscribes_nobody_whose_box_was_left_unticked(
        self, petition: Petition, open_press: Organisation
    ) -> None:
        do_sign_petition(petition, charlie(consents={"open-press"}))
        do_sign_petition(petition, charlie(email="dora@example.org"))

        subscriptions = Subscription.objects.select_related("mailing_list__organisation")
        assert [s.mailing_list.organisation for s in subscriptions] == [open_press]
        assert subscriptions.get().person.email == "charlie@example.org"

    def test_it_ignores_a_box_for_an_organisation_that_is_not_a_sponsor(
        self, petition: Petition
    ) -> None:
        make_org("Someone Else", "someone-else", default_list=None)
        do_sign_petition(petition, charlie(consents={"someone-else"}))

        assert ConsentEvent.objects.count() == 0

    def test_it_records_the_notice_for_every_sponsor_in_notice_mode(
        self, open_press: Organisation, action_fund: Organisation
    ) -> None:
        petition = make_petition(sponsors=[open_press, action_fund], consent_mode="notice")

        do_sign_petition(petition, charlie())

        wordings = set(ConsentEvent.objects.values_list("wording", flat=True))
        assert len(wordings) == 1
        wording = wordings.pop()
        assert wording.startswith(notice_sentence([open_press, action_fund]))
        assert "Open Press and Open Press Action Fund" in wording
        assert ConsentEvent.objects.count() == 2

    @pytest.mark.parametrize("status", ["draft", "closed"])
    def test_it_refuses_a_petition_that_is_not_open(
        self, open_press: Organisation, status: str
    ) -> None:
        petition = make_petition(sponsors=[open_press], status=status)

        with pytest.raises(PetitionNotOpen):
            do_sign_petition(petition, charlie())
        assert Signature.objects.count() == 0

    def test_it_rejects_an_address_that_is_not_one(self, petition: Petition) -> None:
        with pytest.raises(ValidationError):
            do_sign_petition(petition, charlie(email="charlie at example.org"))
        assert Person.objects.count() == 0

    def test_it_stores_source_and_utm(self, petition: Petition) -> None:
        do_sign_petition(
            petition,
            charlie(
                source="newsletter",
                utm_source="mail",
                utm_medium="email",
                utm_campaign="ice",
                utm_term="t",
                utm_content="button",
                http_referer="https://news.example.net/story",
            ),
        )

        signature = Signature.objects.get()
        assert signature.source == "newsletter"
        assert (
            signature.utm_source,
            signature.utm_medium,
            signature.utm_campaign,
            signature.utm_term,
            signature.utm_content,
        ) == ("mail", "email", "ice", "t", "button")
        assert signature.http_referer == "https://news.example.net/story"

    def test_it_records_who_referred_the_signer(self, petition: Petition) -> None:
        bob = do_sign_petition(petition, charlie(email="bob@example.org")).person
        assert bob is not None

        do_sign_petition(petition, charlie(referral_code=make_referral_code(bob.pk)))

        assert Signature.objects.get(person__email="charlie@example.org").referrer == bob

    @pytest.mark.parametrize("code", ["1-AAAAAAAAAAAA", "nonsense", "99999-AAAAAAAAAAAA"])
    def test_it_ignores_a_forged_referral_code(self, petition: Petition, code: str) -> None:
        do_sign_petition(petition, charlie(referral_code=code))

        assert Signature.objects.get().referrer is None

    def test_it_ignores_a_code_for_someone_who_does_not_exist(self, petition: Petition) -> None:
        do_sign_petition(petition, charlie(referral_code=make_referral_code(424242)))

        assert Signature.objects.get().referrer is None

    def test_it_signs_in_a_few_statements(
        self, petition: Petition, django_assert_max_num_queries: Any
    ) -> None:
        # Signers queue for SQLite's write lock: every statement inside it counts.
        # It took 27 (and a second commit) when sponsors were read inside. PostgreSQL
        # adds a savepoint around each insert a concurrent signer can make fail.
        sponsor_lists = petition.sponsors_with_lists()  # the page read them already
        with django_assert_max_num_queries(10 if connection.vendor == "sqlite" else 16):
            do_sign_petition(
                petition, charlie(consents={"open-press"}), sponsor_lists=sponsor_lists
            )

        assert ConsentEvent.objects.count() == 1

    def test_it_does_not_touch_the_counter(self, petition: Petition) -> None:
        do_sign_petition(petition, charlie())

        assert not PetitionCount.objects.exists()

    def test_it_sends_the_thank_you_email_after_commit(
        self, petition: Petition, django_capture_on_commit_callbacks: Any
    ) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            do_sign_petition(petition, charlie())

        assert len(mail.outbox) == 1
        assert mail.outbox[0].to == ["charlie@example.org"]
        assert Signature.objects.get().thanked_at is not None

    def test_it_sends_nothing_when_the_signature_is_rolled_back(
        self, petition: Petition, django_capture_on_commit_callbacks: Any
    ) -> None:
        with (
            django_capture_on_commit_callbacks(execute=True),
            pytest.raises(RuntimeError),
            transaction.atomic(),
        ):
            do_sign_petition(petition, charlie())
            raise RuntimeError("the caller fails after signing")

        assert mail.outbox == []
        assert Signature.objects.count() == 0
