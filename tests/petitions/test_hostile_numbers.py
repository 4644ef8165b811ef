"""Numbers taken from a request are bounded: a tracked-link number out of range, or
spelled in other digits, neither answers 500 nor fails anyone else's signature."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from groundswell.lib.numbers import MAX_STORED_INT, bounded_int
from groundswell.lib.tokens import make_member_token
from groundswell.petitions.actions.signing import SignatureDetails, prepare_signature
from groundswell.petitions.models import Petition, Signature
from groundswell.petitions.writer import SignatureWriter
from tests.cast import make_person
from tests.petitions.test_concurrent_signing import run_at_once
from tests.petitions.test_signing_together import WriteLockHeld
from tests.waiting import wait_until

HOSTILE_NUMBERS = ("99999999999999999999", str(MAX_STORED_INT + 1), "²", "١٢", "-1", "1e3", " 7")


class TestBoundedInt:
    @pytest.mark.parametrize("value", HOSTILE_NUMBERS)
    def test_it_refuses_what_is_not_a_small_number_in_ascii_digits(self, value: str) -> None:
        assert bounded_int(value) is None

    def test_it_reads_plain_numbers_up_to_the_limit(self) -> None:
        assert bounded_int("7") == 7
        assert bounded_int(str(MAX_STORED_INT)) == MAX_STORED_INT
        assert bounded_int("300", maximum=299) is None


@pytest.mark.django_db
class TestMemberLinkNumbers:
    @pytest.mark.parametrize("t", HOSTILE_NUMBERS)
    def test_it_signs_a_member_whatever_the_link_number_says(
        self, client: Client, petition: Petition, t: str
    ) -> None:
        bob = make_person("bob@example.org", "Bob", "Member", postal_code="LS1 4AP", country="GB")
        token = make_member_token(bob.pk, 5)

        assert client.get(f"/sign/{petition.slug}/", {"akid": token, "t": t}).status_code == 200
        response = client.post(f"/sign/{petition.slug}/", {"akid": token, "t": t})

        assert response.status_code == 303
        signature = Signature.objects.get(person=bob)
        assert (signature.mailing_id, signature.link_number) == (5, None)

    def test_it_keeps_a_link_number_in_range(self, client: Client, petition: Petition) -> None:
        bob = make_person("bob@example.org", "Bob", "Member", postal_code="LS1 4AP", country="GB")
        client.post(f"/sign/{petition.slug}/", {"akid": make_member_token(bob.pk, 5), "t": "3"})
        assert Signature.objects.get(person=bob).link_number == 3


@pytest.fixture
def writer() -> Iterator[SignatureWriter]:
    writer = SignatureWriter()
    yield writer
    writer.close_connection()


@pytest.mark.django_db(transaction=True)
class TestOneBadSignatureInABatch:
    def test_it_never_fails_the_others_written_with_it(
        self, petition: Petition, writer: SignatureWriter
    ) -> None:
        def details(i: int, **extra: Any) -> SignatureDetails:
            return SignatureDetails(
                email=f"signer{i}@example.org", first_name="Signer", last_name=str(i), **extra
            )

        batch = [prepare_signature(petition, details(i)) for i in range(6)]
        # As a caller that skipped the view's checks would hand it over.
        batch[3] = prepare_signature(
            petition, details(3, mailing_id=5, link_number=99999999999999999999)
        )
        lock = WriteLockHeld()
        first = threading.Thread(target=writer.write, args=(batch[0],))
        first.start()
        wait_until(lambda: writer.writing() == 1, message="the writer to take the first")
        results: list[Any] = []
        rest = threading.Thread(
            target=lambda: results.extend(run_at_once(5, lambda i: writer.write(batch[i + 1])))
        )
        rest.start()
        wait_until(lambda: writer.waiting() == 5, message="five waiting")
        lock.release()
        first.join(30)
        rest.join(30)

        # Two transactions: the first signature alone, then the five together; none of
        # them had to be written again on its own.
        assert writer.batches == 2
        assert Signature.objects.count() == 6
        bad = Signature.objects.get(person__last_name="3")
        assert (bad.mailing_id, bad.link_number) == (5, None)


@pytest.mark.django_db
class TestOtherNumbersFromRequests:
    """Odd digits elsewhere: a page, never a 500."""

    def test_the_subscriptions_page_ignores_list_ids_that_are_not_numbers(
        self, client: Client
    ) -> None:
        bob = make_person("bob@example.org", "Bob", "Member")
        url = f"/subscriptions/{make_member_token(bob.pk)}/"
        for value in ("²", "99999999999999999999999"):
            assert client.post(url, {"lists": [value]}).status_code == 200

    def test_the_staff_pages_ignore_odd_numbers_in_their_queries(
        self, alice_client: Client, petition: Petition
    ) -> None:
        for url in (
            f"/staff/petitions/{petition.slug}/?refresh=²",
            "/staff/audit/?organisation=²",
            "/staff/audit/?organisation=99999999999999999999999",
        ):
            assert alice_client.get(url).status_code == 200, url

    def test_a_two_factor_code_in_other_digits_is_just_wrong(self, alice_client: Client) -> None:
        alice_client.get("/staff/account/two-factor/")
        response = alice_client.post("/staff/account/two-factor/", {"otp_token": "²²²²²²"})
        assert response.status_code in (200, 400)
