"""Many signers at once: no errors, no lost signatures, no duplicates (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connections
from django.test import Client

from groundswell.petitions.actions.signing import SignatureDetails, SignResult, do_sign_petition
from groundswell.petitions.counter import clear_process_cache, petition_count
from groundswell.petitions.models import Petition, Signature
from tests.petitions.conftest import sign_data


def run_at_once(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Start `count` threads that all call work(i) at the same moment."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except BaseException as error:  # collected and asserted on below
            results[i] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


@pytest.mark.django_db(transaction=True)
class TestConcurrentSigning:
    def test_it_keeps_all_fifty_signatures_of_fifty_signers(
        self, petition: Petition, exact_counts: None
    ) -> None:
        def sign(i: int) -> SignResult:
            return do_sign_petition(
                petition,
                SignatureDetails(
                    email=f"signer{i}@example.org",
                    first_name="Signer",
                    last_name=str(i),
                    consents={"open-press"},
                ),
            )

        results = run_at_once(50, sign)

        errors = [r for r in results if not isinstance(r, SignResult)]
        assert errors == []
        assert all(not r.already_signed for r in results)
        assert Signature.objects.filter(petition=petition).count() == 50
        clear_process_cache()
        assert petition_count(petition).count == 50

    def test_it_keeps_exactly_one_signature_for_ten_at_once_with_one_address(
        self, petition: Petition, exact_counts: None
    ) -> None:
        spellings = ["bob@example.org", " BOB@example.org", "Bob@Example.Org "]

        def sign(i: int) -> SignResult:
            return do_sign_petition(
                petition,
                SignatureDetails(
                    email=spellings[i % 3],
                    first_name="Bob",
                    last_name="Member",
                    consents={"open-press"},
                ),
            )

        results = run_at_once(10, sign)

        errors = [r for r in results if not isinstance(r, SignResult)]
        assert errors == []
        assert sum(not r.already_signed for r in results) == 1
        assert Signature.objects.filter(petition=petition).count() == 1
        clear_process_cache()
        assert petition_count(petition).count == 1

    def test_it_never_answers_500_to_signers_through_the_page(self, petition: Petition) -> None:
        def post(i: int) -> int:
            email = "same@example.org" if i % 2 else f"web{i}@example.org"
            client = Client()
            response = client.post("/sign/cancel-the-contract/", sign_data(petition, email=email))
            return response.status_code

        statuses = run_at_once(20, post)

        assert statuses == [303] * 20
        assert Signature.objects.filter(petition=petition).count() == 11
