"""Whoever types an address on the form cannot learn whether it had signed: the answer
is the same either way, and only the owner of the address hears it by email."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from groundswell.petitions.models import Petition, Signature
from tests.petitions.conftest import sign_data

pytestmark = pytest.mark.django_db


def thanks_page(petition: Petition, capture: Any, **fields: str) -> str:
    browser = Client()
    with capture(execute=True):
        response = browser.post(f"/sign/{petition.slug}/", sign_data(petition, **fields))
    assert response.status_code == 303
    html = browser.get(response["Location"]).content.decode()
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)


class TestRepeatSigning:
    def test_the_thanks_page_is_the_same_for_a_first_and_a_repeat_signature(
        self, petition: Petition, django_capture_on_commit_callbacks: Any
    ) -> None:
        first = thanks_page(petition, django_capture_on_commit_callbacks)
        repeat = thanks_page(
            petition, django_capture_on_commit_callbacks, email=" Charlie@EXAMPLE.org"
        )

        assert repeat == first
        assert "already" not in repeat
        assert Signature.objects.count() == 1

    def test_the_owner_of_the_address_hears_of_it_by_email_at_most_once_a_day(
        self, petition: Petition, django_capture_on_commit_callbacks: Any
    ) -> None:
        capture = django_capture_on_commit_callbacks
        thanks_page(petition, capture)
        signature = Signature.objects.get()
        # Thanked over a day ago.
        Signature.objects.filter(pk=signature.pk).update(
            thanked_at=timezone.now() - timedelta(days=2)
        )
        mail.outbox.clear()

        thanks_page(petition, capture)
        thanks_page(petition, capture)

        [note] = mail.outbox
        assert note.to == ["charlie@example.org"]
        assert "already signed" in note.subject
        assert "still counts once" in note.body

    def test_no_note_goes_before_the_thank_you_itself(
        self, petition: Petition, django_capture_on_commit_callbacks: Any
    ) -> None:
        capture = django_capture_on_commit_callbacks
        thanks_page(petition, capture)
        Signature.objects.update(thanked_at=None)
        mail.outbox.clear()

        thanks_page(petition, capture)

        assert mail.outbox == []
