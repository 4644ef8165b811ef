"""Group commit: many signatures written in one transaction (do_sign_petitions), and the
writer thread that gathers them in a server process (petitions/writer.py)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.core import mail
from django.db import IntegrityError, connection, connections
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from groundswell.lib.tokens import email_hash
from groundswell.members.models import (
    ConsentEvent,
    Person,
    Subscription,
    SubscriptionStatus,
    Suppression,
    SuppressionReason,
)
from groundswell.orgs.models import MailingList, Organisation
from groundswell.petitions.actions.signing import (
    PendingSignature,
    SignatureDetails,
    SignResult,
    do_sign_petition,
    do_sign_petitions,
    prepare_signature,
)
from groundswell.petitions.consent import explicit_sentence, recorded_wording
from groundswell.petitions.models import Petition, Signature
from groundswell.petitions.referrals import make_referral_code
from groundswell.petitions.writer import SignatureWriter
from tests.cast import make_petition
from tests.conftest import SmtpSink, free_port
from tests.petitions.conftest import sign_data
from tests.petitions.test_concurrent_signing import run_at_once
from tests.petitions.test_thank_you_email import run_worker
from tests.waiting import wait_until


def signer(i: int | str, **overrides: Any) -> SignatureDetails:
    fields: dict[str, Any] = {
        "email": f"signer{i}@example.org",
        "first_name": "Signer",
        "last_name": str(i),
        "consents": {"open-press"},
    }
    fields.update(overrides)
    return SignatureDetails(**fields)


def pending(petition: Petition, details: SignatureDetails) -> PendingSignature:
    return prepare_signature(petition, details, ip_address="192.0.2.7")


@pytest.mark.django_db
class TestDoSignPetitions:
    def test_it_writes_each_signature_with_its_own_details_and_consent(
        self, petition: Petition
    ) -> None:
        results = do_sign_petitions([pending(petition, signer(i)) for i in range(5)])

        assert [r.already_signed for r in results] == [False] * 5
        assert [r.signature.person.email for r in results if r.signature] == [
            f"signer{i}@example.org" for i in range(5)
        ]
        assert Signature.objects.filter(petition=petition).count() == 5
        events = ConsentEvent.objects.select_related("subscription__person")
        assert sorted(e.subscription.person.email for e in events) == [
            f"signer{i}@example.org" for i in range(5)
        ]
        open_press = Organisation.objects.get(slug="open-press")
        assert {e.wording for e in events} == {
            recorded_wording(explicit_sentence(open_press), [open_press])
        }
        assert {e.ip_address for e in events} == {"192.0.2.7"}
        assert {e.source for e in events} == {"petition:cancel-the-contract"}

    def test_it_signs_an_address_given_twice_once(self, petition: Petition) -> None:
        results = do_sign_petitions(
            [
                pending(petition, signer(1)),
                pending(petition, signer(1, email="  SIGNER1@example.org ", first_name="Eve")),
            ]
        )

        assert [r.already_signed for r in results] == [False, True]
        assert results[1].signature is None
        assert Signature.objects.count() == 1
        assert Person.objects.get().first_name == "Signer"
        assert ConsentEvent.objects.count() == 1

    def test_it_lets_one_person_sign_two_petitions_in_one_batch(
        self, petition: Petition, open_press: Organisation
    ) -> None:
        other = make_petition("second", sponsors=[open_press])

        results = do_sign_petitions([pending(petition, signer(1)), pending(other, signer(1))])

        assert [r.already_signed for r in results] == [False, False]
        assert Person.objects.count() == 1
        assert Signature.objects.filter(person=Person.objects.get()).count() == 2

    def test_it_tells_who_had_signed_before_and_leaves_their_record_alone(
        self, petition: Petition
    ) -> None:
        do_sign_petition(petition, signer(1, last_name="", consents=set()))

        results = do_sign_petitions(
            [pending(petition, signer(1, last_name="Changed")), pending(petition, signer(2))]
        )

        assert [r.already_signed for r in results] == [True, False]
        assert Person.objects.get(email="signer1@example.org").last_name == ""
        assert not Subscription.objects.filter(person__email="signer1@example.org").exists()

    def test_it_fills_in_blanks_of_someone_known_who_signs_for_the_first_time(
        self, petition: Petition, open_press: Organisation
    ) -> None:
        other = make_petition("second", sponsors=[open_press])
        do_sign_petition(other, signer(1, last_name="", postal_code="AB1"))

        [result] = do_sign_petitions([pending(petition, signer(1, postal_code="ZZ9"))])

        assert not result.already_signed
        person = Person.objects.get()
        assert (person.last_name, person.postal_code) == ("1", "AB1")

    def test_it_writes_nothing_for_a_petition_that_closed_and_carries_on_with_the_rest(
        self, petition: Petition, open_press: Organisation
    ) -> None:
        closing = make_petition("closing", sponsors=[open_press])
        batch = [pending(closing, signer(1)), pending(petition, signer(2))]
        Petition.objects.filter(pk=closing.pk).update(status="closed")

        results = do_sign_petitions(batch)

        assert results[0].not_open and results[0].signature is None
        assert not results[1].not_open and not results[1].already_signed
        assert list(Signature.objects.values_list("person__email", flat=True)) == [
            "signer2@example.org"
        ]

    def test_it_signs_for_lapsed_members_but_neither_resubscribes_them_nor_lifts_suppression(
        self, petition: Petition, django_capture_on_commit_callbacks: Any
    ) -> None:
        do_sign_petition(make_petition("old", sponsors=[]), signer(1, consents=set()))
        person = Person.objects.get()
        Subscription.objects.create(
            person=person,
            mailing_list=MailingList.objects.get(organisation__slug="open-press"),
            status=SubscriptionStatus.UNSUBSCRIBED,
        )
        Suppression.objects.create(
            email_hash=email_hash(person.email_normalised), reason=SuppressionReason.UNSUBSCRIBED
        )

        with django_capture_on_commit_callbacks(execute=True):
            do_sign_petitions([pending(petition, signer(1)), pending(petition, signer(2))])

        assert Signature.objects.filter(petition=petition).count() == 2
        assert set(Subscription.objects.values_list("person__email", "status")) == {
            ("signer1@example.org", "unsubscribed"),
            ("signer2@example.org", "subscribed"),
        }
        assert Suppression.objects.count() == 1
        # Signer 1 is asked, at the address, whether to hear from Open Press again.
        asked = [(m.to, m.subject) for m in mail.outbox if "again" in m.subject]
        assert asked == [(["signer1@example.org"], "Do you want to hear from Open Press again?")]

    def test_it_records_referrals_that_point_at_someone_and_not_at_oneself(
        self, petition: Petition
    ) -> None:
        [first] = do_sign_petitions([pending(petition, signer(1))])
        assert first.person is not None
        code = make_referral_code(first.person.pk)
        gone = make_referral_code(first.person.pk + 1000)

        results = do_sign_petitions(
            [
                pending(petition, signer(2, referral_code=code)),
                pending(petition, signer(3, referral_code=gone)),
            ]
        )
        do_sign_petitions([pending(make_petition("x", sponsors=[]), signer(1, referral_code=code))])

        assert [r.signature.referrer_id for r in results if r.signature] == [first.person.pk, None]
        assert Signature.objects.get(petition__slug="x").referrer_id is None

    def test_it_takes_a_few_statements_however_many_sign(
        self, petition: Petition, django_assert_max_num_queries: Any
    ) -> None:
        batch = [pending(petition, signer(i)) for i in range(100)]

        # A savepoint pair (inside the test's transaction), the petitions' status, people
        # (select, insert), signatures, subscriptions (select, insert), consent events,
        # suppressions, and on SQLite some inserts split in two or three (at most 999
        # values per statement). One by one, it took 1,000.
        with django_assert_max_num_queries(15):
            do_sign_petitions(batch)

        assert Signature.objects.count() == 100

    def test_it_looks_up_known_signers_by_index_not_through_every_signature(
        self, petition: Petition, django_assert_max_num_queries: Any
    ) -> None:
        do_sign_petitions([pending(petition, signer(i)) for i in range(20)])
        batch = [pending(petition, signer(i)) for i in range(10, 30)]

        with django_assert_max_num_queries(15) as captured:
            do_sign_petitions(batch)

        # Sorted by date, SQLite read the petition's signatures newest first, all of
        # them, to find the few by these people.
        reads = [
            q["sql"]
            for q in captured.captured_queries
            if q["sql"].startswith("SELECT") and '"petitions_signature"' in q["sql"]
        ]
        assert reads
        assert not [sql for sql in reads if "ORDER BY" in sql]


@pytest.fixture
def writer() -> Iterator[SignatureWriter]:
    writer = SignatureWriter()
    yield writer
    writer.close_connection()


class WriteLockHeld:
    """Another connection holds what the writer needs (SQLite's write lock; on
    PostgreSQL the signature table, against inserts) until release()."""

    def __init__(self) -> None:
        self._taken = threading.Event()
        self._release = threading.Event()
        self._thread = threading.Thread(target=self._hold)
        self._thread.start()
        assert self._taken.wait(10)

    def _hold(self) -> None:
        from django.db import transaction

        try:
            with transaction.atomic():
                if connection.vendor == "postgresql":
                    with connection.cursor() as cursor:
                        cursor.execute("LOCK TABLE petitions_signature IN EXCLUSIVE MODE")
                else:
                    Organisation.objects.filter(pk=0).update(name="")  # takes the lock
                self._taken.set()
                self._release.wait(30)
        finally:
            connections.close_all()

    def release(self) -> None:
        self._release.set()
        self._thread.join(10)


@pytest.mark.django_db(transaction=True)
class TestSignatureWriter:
    def test_it_writes_the_signatures_that_wait_together_in_one_transaction(
        self, petition: Petition, writer: SignatureWriter
    ) -> None:
        lock = WriteLockHeld()
        first = threading.Thread(target=writer.write, args=(pending(petition, signer(0)),))
        first.start()
        # The writer has taken the first and waits for the lock with it; the next ten
        # queue up behind.
        wait_until(lambda: writer.writing() == 1, message="the writer to take the first")
        rest = threading.Thread(
            target=run_at_once,
            args=(10, lambda i: writer.write(pending(petition, signer(i + 1)))),
        )
        rest.start()
        wait_until(lambda: writer.waiting() == 10, message="ten waiting")
        lock.release()
        first.join(30)
        rest.join(30)

        assert Signature.objects.count() == 11
        assert writer.batches == 2

    def test_it_answers_each_signer_only_after_the_commit(
        self, petition: Petition, writer: SignatureWriter
    ) -> None:
        lock = WriteLockHeld()
        answered: list[SignResult] = []
        thread = threading.Thread(
            target=lambda: answered.append(writer.write(pending(petition, signer(1))))
        )
        thread.start()
        wait_until(lambda: writer.writing() == 1, message="the writer to take the signature")
        thread.join(0.5)  # a while for an answer that must not come
        assert answered == []  # the writer cannot commit yet, so nobody hears back

        lock.release()
        thread.join(30)

        assert [r.already_signed for r in answered] == [False]
        assert Signature.objects.filter(pk=answered[0].signature.pk).exists()  # type: ignore[union-attr]

    def test_it_keeps_every_good_signature_when_one_in_the_batch_cannot_be_written(
        self, petition: Petition, writer: SignatureWriter
    ) -> None:
        gone = MailingList.objects.create(
            organisation=Organisation.objects.get(slug="open-press"), name="Gone", slug="gone"
        )
        batch = [pending(petition, signer(i)) for i in range(6)]
        batch[3].consents.append((gone, "a wording"))
        MailingList.objects.filter(pk=gone.pk).delete()
        lock = WriteLockHeld()
        first = threading.Thread(target=writer.write, args=(batch[0],))
        first.start()
        wait_until(lambda: writer.writing() == 1, message="the writer to take the first")
        rest = threading.Thread(
            target=lambda: results.extend(run_at_once(5, lambda i: writer.write(batch[i + 1])))
        )
        results: list[Any] = []
        rest.start()
        wait_until(lambda: writer.waiting() == 5, message="five waiting")
        lock.release()
        first.join(30)
        rest.join(30)

        assert [type(r) for r in results].count(IntegrityError) == 1
        assert isinstance(results[2], IntegrityError)
        assert sorted(Signature.objects.values_list("person__last_name", flat=True)) == [
            "0",
            "1",
            "2",
            "4",
            "5",
        ]

    def test_it_rolls_back_every_signature_in_a_batch_that_fails(self, petition: Petition) -> None:
        gone = MailingList.objects.create(
            organisation=Organisation.objects.get(slug="open-press"), name="Gone", slug="gone"
        )
        batch = [pending(petition, signer(1)), pending(petition, signer(2))]
        batch[1].consents.append((gone, "a wording"))
        MailingList.objects.filter(pk=gone.pk).delete()

        with pytest.raises(IntegrityError):
            do_sign_petitions(batch)

        assert not Signature.objects.exists()
        assert not Person.objects.exists()

    def test_it_serves_fifty_signers_through_the_sign_page_at_once(
        self, petition: Petition, exact_counts: None
    ) -> None:
        def sign(i: int) -> int:
            response = Client().post(
                "/sign/cancel-the-contract/",
                sign_data(petition, email=f"web{i}@example.org", **{"consent_open-press": "on"}),
            )
            return response.status_code

        statuses = run_at_once(50, sign)

        assert statuses == [303] * 50
        assert Signature.objects.count() == 50
        assert ConsentEvent.objects.count() == 50

    def test_it_queues_a_thank_you_for_each_that_a_real_worker_sends(
        self, petition: Petition, smtp_sink: SmtpSink, settings: Any
    ) -> None:
        settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

        do_sign_petitions([pending(petition, signer(i)) for i in range(3)])
        [task] = DBTaskResult.objects.all()  # one task for the three
        run_worker()

        assert sorted(m["To"] for m in smtp_sink.messages) == [
            f"signer{i}@example.org" for i in range(3)
        ]
        assert Signature.objects.filter(thanked_at=None).count() == 0
        task.refresh_from_db()
        assert task.status == "SUCCESSFUL"
        assert task.return_value == "3 sent"

    def test_each_thank_you_of_a_batch_is_retried_on_its_own_while_smtp_is_down(
        self, petition: Petition, smtp_sink: SmtpSink, settings: Any
    ) -> None:
        settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
        settings.EMAIL_PORT = free_port()  # nothing listens there
        do_sign_petitions([pending(petition, signer(i)) for i in range(3)])

        run_worker()

        batch, *retries = DBTaskResult.objects.order_by("enqueued_at", "args_kwargs")
        assert batch.status == "FAILED"
        signatures = sorted(Signature.objects.values_list("pk", flat=True))
        assert sorted(r.args_kwargs["args"][0] for r in retries) == signatures
        assert {r.args_kwargs["args"][1] for r in retries} == {2}
        assert {r.status for r in retries} == {"READY"}

        settings.EMAIL_PORT = smtp_sink.port  # the mail server is back
        DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now())
        run_worker()

        assert sorted(m["To"] for m in smtp_sink.messages) == [
            f"signer{i}@example.org" for i in range(3)
        ]
        assert Signature.objects.filter(thanked_at=None).count() == 0
