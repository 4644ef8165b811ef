"""Who a mailing goes to: lists, exclusions, petitions, places, suppression."""

from __future__ import annotations

import pytest

from groundswell.mailings.models import Mailing
from groundswell.mailings.targeting import count_recipients, iter_target_batches
from groundswell.members.actions.suppression import do_suppress
from groundswell.members.models import Person, SubscriptionStatus, SuppressionReason
from groundswell.orgs.models import MailingList, Organisation
from groundswell.petitions.models import Signature, SignatureStatus
from tests.cast import make_list, make_mailing, make_people, make_petition, subscribe_all


def emails(mailing: Mailing, batch_size: int = 2000) -> list[str]:
    return [t.email for batch in iter_target_batches(mailing, batch_size) for t in batch]


@pytest.fixture
def donors(org: Organisation) -> MailingList:
    return make_list(org, "donors")


class TestRecipients:
    def test_it_sends_to_subscribed_people_of_the_included_lists_once_each(
        self, org: Organisation, supporters: MailingList, donors: MailingList
    ) -> None:
        both = make_people(2, prefix="both")
        only_donor = make_people(1, prefix="donor")
        gone = make_people(1, prefix="gone")
        subscribe_all(both, supporters)
        subscribe_all(both + only_donor, donors)
        subscribe_all(gone, supporters, SubscriptionStatus.UNSUBSCRIBED)
        mailing = make_mailing(org, supporters, donors)

        assert sorted(emails(mailing)) == [
            "both0@example.org",
            "both1@example.org",
            "donor0@example.org",
        ]
        assert count_recipients(mailing) == 3

    def test_it_leaves_out_members_of_excluded_lists(
        self, org: Organisation, supporters: MailingList, donors: MailingList
    ) -> None:
        people = make_people(3)
        subscribe_all(people, supporters)
        subscribe_all(people[:1], donors)
        subscribe_all(people[1:2], donors, SubscriptionStatus.UNSUBSCRIBED)
        mailing = make_mailing(org, supporters)
        mailing.exclude_lists.set([donors])

        assert emails(mailing) == ["member1@example.org", "member2@example.org"]

    def test_it_leaves_out_signers_of_chosen_petitions(
        self, org: Organisation, supporters: MailingList
    ) -> None:
        people = make_people(3)
        subscribe_all(people, supporters)
        river = make_petition("clean-river", sponsors=[org])
        Signature.objects.create(petition=river, person=people[0])
        Signature.objects.create(
            petition=river, person=people[1], status=SignatureStatus.INVALIDATED
        )
        mailing = make_mailing(org, supporters)
        mailing.exclude_signers_of.set([river])

        assert emails(mailing) == ["member1@example.org", "member2@example.org"]

    def test_it_can_go_only_to_signers_of_one_petition(
        self, org: Organisation, supporters: MailingList
    ) -> None:
        people = make_people(3)
        subscribe_all(people, supporters)
        river = make_petition("clean-river", sponsors=[org])
        Signature.objects.create(petition=river, person=people[2])
        mailing = make_mailing(org, supporters, only_signers_of=river)

        assert emails(mailing) == ["member2@example.org"]

    def test_it_filters_by_country_and_postal_code_prefix_ignoring_case_and_spaces(
        self, org: Organisation, supporters: MailingList
    ) -> None:
        london = make_people(1, prefix="london", country="GB", postal_code="sw1a 1aa")
        leeds = make_people(1, prefix="leeds", country="GB", postal_code="LS1 4AP")
        paris = make_people(1, prefix="paris", country="FR", postal_code="75001")
        subscribe_all(london + leeds + paris, supporters)

        by_country = make_mailing(org, supporters, countries="gb, ie")
        assert sorted(emails(by_country)) == ["leeds0@example.org", "london0@example.org"]
        by_postcode = make_mailing(org, supporters, postal_code_prefix="SW 1A")
        assert emails(by_postcode) == ["london0@example.org"]

    def test_it_never_includes_suppressed_addresses(
        self, org: Organisation, supporters: MailingList
    ) -> None:
        people = make_people(5)
        subscribe_all(people, supporters)
        do_suppress("member3@example.org", reason=SuppressionReason.COMPLAINED, source="test")
        mailing = make_mailing(org, supporters)

        assert "member3@example.org" not in emails(mailing)
        assert count_recipients(mailing) == 4

    def test_it_reads_people_in_id_ordered_batches_without_losing_any(
        self, org: Organisation, supporters: MailingList
    ) -> None:
        people = make_people(250)
        subscribe_all(people[::2], supporters)
        do_suppress("member10@example.org", reason=SuppressionReason.STAFF, source="test")
        mailing = make_mailing(org, supporters)

        batches = list(iter_target_batches(mailing, batch_size=40))
        ids = [t.person_id for batch in batches for t in batch]
        assert all(len(batch) <= 40 for batch in batches)
        assert ids == sorted(ids)
        assert len(ids) == 124
        assert set(ids) == {p.pk for p in people[::2]} - {
            Person.objects.get(email_normalised="member10@example.org").pk
        }

    def test_it_counts_nobody_without_an_included_list(self, org: Organisation) -> None:
        make_people(2)
        assert count_recipients(make_mailing(org)) == 0
