"""Counts of people on the staff pages read with thousands grouped ("1,234"), as the
petitions' signature counts do; the CSV export keeps plain digits for spreadsheets."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from groundswell.mailings.models import Mailing, MailingRecipient, MailingStatus, RecipientState
from groundswell.mailings.progress import progress_line
from tests.cast import make_people

pytestmark = pytest.mark.django_db


def sent_to_many(mailing: Mailing, people: int = 1234) -> Mailing:
    """A finished send to `people` people."""
    persons = make_people(people)
    MailingRecipient.objects.bulk_create(
        MailingRecipient(
            mailing=mailing, person=p, email=p.email, variant="A", state=RecipientState.SENT
        )
        for p in persons
    )
    Mailing.objects.filter(pk=mailing.pk).update(
        status=MailingStatus.SENT, started_at=timezone.now(), recipient_count=people
    )
    return Mailing.objects.get(pk=mailing.pk)


def test_it_groups_the_thousands_of_a_sent_mailings_recipients(
    alice_client: Client, mailing: Mailing
) -> None:
    mailing = sent_to_many(mailing)

    page = alice_client.get(f"/staff/mailings/{mailing.pk}/").content.decode()
    home = alice_client.get("/staff/").content.decode()
    report = alice_client.get(f"/staff/reports/mailings/{mailing.pk}/").content.decode()
    export = alice_client.get(f"/staff/reports/mailings/{mailing.pk}/csv/")

    assert "1,234 recipients (frozen when the send started)" in page
    assert "1,234 of 1,234 sent" in page
    assert ">1,234</td>" in home
    assert '<td class="number">1,234</td>' in report
    assert (
        "1234"
        in b"".join(export.streaming_content if export.streaming else [export.content]).decode()
    )


@pytest.mark.parametrize(("rate", "shown"), [(12.0, "12"), (12.5, "12.5"), (0.0, "0")])
def test_its_progress_line_writes_the_rate_as_the_pages_script_does(rate: float, shown: str):
    figures = {"sent": 1234, "total": 2000, "rate": rate, "failed": 1, "unknown": 0}

    assert (
        progress_line(figures) == f"1,234 of 2,000 sent · {shown} per second · 1 failed · 0 unknown"
    )
