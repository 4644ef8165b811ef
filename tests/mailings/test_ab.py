"""A/B subjects: each subject goes to a sample, the winner to everyone else."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from groundswell.mailings.actions.ab import ab_scores, do_choose_ab_winner
from groundswell.mailings.actions.send import SendError, do_start_send
from groundswell.mailings.models import AbMetric, Mailing, MailingRecipient, MailingStatus
from groundswell.mailings.tasks import check_mailings
from groundswell.orgs.models import MailingList, Organisation
from groundswell.petitions.models import Signature
from groundswell.tracking.models import Click
from tests.cast import make_mailing, make_people, subscribe_all

pytestmark = pytest.mark.usefixtures("mail_in_memory")


@pytest.fixture
def supporters(supporters: MailingList) -> MailingList:
    subscribe_all(make_people(100), supporters)
    return supporters


def ab_mailing(org: Organisation, supporters: MailingList, **fields: Any) -> Mailing:
    values: dict[str, Any] = {
        "subject": "The river needs you",
        "subject_b": "Sewage in our river",
        "ab_sample_percent": 10,
        "ab_wait_minutes": 0,
    }
    return make_mailing(org, supporters, **(values | fields))


def subjects() -> Counter[str]:
    return Counter(str(m.subject) for m in mail.outbox)


def variants(mailing: Mailing) -> Counter[str]:
    return Counter(
        MailingRecipient.objects.filter(mailing=mailing).values_list("variant", flat=True)
    )


class TestAbSubjects:
    def test_it_sends_each_subject_to_a_sample_and_holds_back_the_rest(
        self, org: Organisation, supporters: MailingList, django_capture_on_commit_callbacks: Any
    ) -> None:
        mailing = ab_mailing(org, supporters, ab_wait_minutes=60)
        with django_capture_on_commit_callbacks(execute=True):
            do_start_send(mailing)

        assert variants(mailing) == {"A": 10, "B": 10, "": 80}
        assert subjects() == {"The river needs you": 10, "Sewage in our river": 10}
        mailing.refresh_from_db()
        assert mailing.status == MailingStatus.SENDING
        assert mailing.ab_decide_at is not None
        assert 59 <= (mailing.ab_decide_at - timezone.now()).total_seconds() / 60 <= 60
        check_mailings()  # not due yet: nothing more goes
        assert len(mail.outbox) == 20

    def test_the_subject_with_more_actions_goes_to_everyone_else(
        self, org: Organisation, supporters: MailingList, django_capture_on_commit_callbacks: Any
    ) -> None:
        mailing = ab_mailing(org, supporters, ab_metric=AbMetric.ACTIONS, ab_wait_minutes=60)
        with django_capture_on_commit_callbacks(execute=True):
            do_start_send(mailing)
        # Three of sample B sign through the mailing, one of sample A.
        b_people = MailingRecipient.objects.filter(mailing=mailing, variant="B")[:3]
        a_person = MailingRecipient.objects.filter(mailing=mailing, variant="A").first()
        assert a_person is not None
        for recipient in [*b_people, a_person]:
            Signature.objects.create(
                petition=mailing.petition, person_id=recipient.person_id, mailing_id=mailing.pk
            )
        assert ab_scores(mailing)["B"]["count"] == 3

        Mailing.objects.filter(pk=mailing.pk).update(ab_decide_at=timezone.now())
        with django_capture_on_commit_callbacks(execute=True):
            check_mailings()

        mailing.refresh_from_db()
        assert mailing.ab_winner == "B"
        assert mailing.status == MailingStatus.SENT
        assert subjects() == {"The river needs you": 10, "Sewage in our river": 90}
        assert variants(mailing) == {"A": 10, "B": 90}

    def test_the_subject_more_people_clicked_wins_and_machine_clicks_do_not_count(
        self, org: Organisation, supporters: MailingList, django_capture_on_commit_callbacks: Any
    ) -> None:
        mailing = ab_mailing(org, supporters, ab_metric=AbMetric.CLICKS, ab_wait_minutes=60)
        with django_capture_on_commit_callbacks(execute=True):
            do_start_send(mailing)
        # Two of sample B click (one twice); a link scanner clicks for five of sample A.
        a_people = MailingRecipient.objects.filter(mailing=mailing, variant="A")[:5]
        b_people = MailingRecipient.objects.filter(mailing=mailing, variant="B")[:2]
        now = timezone.now()
        clicks = [
            Click(mailing=mailing, link_number=1, person_id=r.person_id, clicked_at=now)
            for r in [*b_people, b_people[0]]
        ]
        clicks += [
            Click(
                mailing=mailing,
                link_number=1,
                person_id=r.person_id,
                clicked_at=now,
                is_machine=True,
                machine_reason="scanner",
            )
            for r in a_people
        ]
        Click.objects.bulk_create(clicks)

        assert ab_scores(mailing)["A"]["count"] == 0
        assert ab_scores(mailing)["B"]["count"] == 2
        with django_capture_on_commit_callbacks(execute=True):
            do_choose_ab_winner(mailing)
        mailing.refresh_from_db()
        assert mailing.ab_winner == "B"

    def test_a_tie_goes_to_subject_a_and_waits_zero_minutes_when_asked(
        self, org: Organisation, supporters: MailingList, django_capture_on_commit_callbacks: Any
    ) -> None:
        mailing = ab_mailing(org, supporters)
        with django_capture_on_commit_callbacks(execute=True):
            do_start_send(mailing)
            mailing.refresh_from_db()
            if not mailing.ab_winner:  # the immediate backend cannot defer: decide now
                do_choose_ab_winner(mailing)

        mailing.refresh_from_db()
        assert mailing.ab_winner == "A"
        assert mailing.status == MailingStatus.SENT
        assert subjects() == {"The river needs you": 90, "Sewage in our river": 10}

    def test_staff_can_choose_the_winner_only_once(
        self, org: Organisation, supporters: MailingList
    ) -> None:
        mailing = do_start_send(ab_mailing(org, supporters))
        do_choose_ab_winner(mailing, "B")
        with pytest.raises(SendError, match="not waiting"):
            do_choose_ab_winner(mailing, "A")

    def test_a_mailing_without_subject_b_is_not_split(
        self, org: Organisation, supporters: MailingList
    ) -> None:
        mailing = do_start_send(make_mailing(org, supporters))
        assert variants(mailing) == {"A": 100}
