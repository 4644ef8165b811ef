"""Erasure, end to end: after Bob signed, was mailed, clicked, bounced and complained,
nothing in any table of the database still holds his address, name or postal code."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from groundswell.bounces.actions import do_process_report_message
from groundswell.bounces.models import BounceEvent
from groundswell.lib.tokens import make_member_token
from groundswell.mailings.models import MailingRecipient
from groundswell.members.emails import profile_edit_link
from groundswell.members.models import Person
from groundswell.tracking.models import Click, Open
from tests.bounces.cast import BOB, FRANK, make_campaign, sample, send_copy
from tests.cast import make_org, make_petition
from tests.petitions.conftest import sign_data

EMAIL, MESSAGE_ID = BOB
# What the erased person typed, as the search looks for it (case does not matter).
NEEDLES = ("bob.marsh@wetlands.example.com", "Bob", "Marsh", "WT1 5RM", "WT15RM")


def run_worker() -> None:
    call_command(
        "db_worker", batch=True, interval=0, startup_delay=False, reload=False, verbosity=0
    )


def where_found(needles: tuple[str, ...]) -> dict[str, set[str]]:
    """Every table and column (of every table in the database, ours or not) whose value
    holds one of the needles, read back as text."""
    pattern = re.compile("|".join(re.escape(n) for n in needles), re.IGNORECASE)
    found: dict[str, set[str]] = {}
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            columns = [
                c.name for c in connection.introspection.get_table_description(cursor, table)
            ]
            cursor.execute(f"SELECT {', '.join(map(quote, columns))} FROM {quote(table)}")  # noqa: S608
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    if isinstance(value, memoryview | bytes):
                        value = bytes(value).decode("utf-8", "replace")
                    if value is not None and pattern.search(str(value)):
                        found.setdefault(table, set()).add(column)
    return found


@pytest.fixture
def database_tasks(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.mark.django_db(transaction=True)
def test_erasure_leaves_nothing_of_the_person_in_any_table(
    client: Any, database_tasks: None
) -> None:
    # Bob signs through the petition page, consenting to the sponsor's mail.
    org = make_org("Open Press", "open-press")
    petition = make_petition(sponsors=[org])
    details = sign_data(
        petition,
        email=EMAIL.upper(),
        first_name="Bob",
        last_name="Marsh",
        postal_code="WT1 5RM",
        comment="As a Marsh I care",
    )
    signed = client.post(petition.get_absolute_url(), {**details, "consent_open-press": "on"})
    assert signed.status_code == 303
    bob = Person.objects.get(email_normalised=EMAIL)

    # He is mailed; the mail server's answer quotes his address; he opens and clicks.
    campaign = make_campaign()
    copy = send_copy(campaign, bob, MESSAGE_ID)
    MailingRecipient.objects.filter(pk=copy.pk).update(
        smtp_response=f"250 2.0.0 Ok: queued as 4VfT3k for <{EMAIL}>"
    )
    now = timezone.now()
    Click.objects.create(
        mailing=campaign.mailing,
        link_number=1,
        person=bob,
        clicked_at=now,
        ip_address="198.51.100.4",
        user_agent="Mozilla/5.0 (Marsh edition)",
    )
    Open.objects.create(mailing=campaign.mailing, person=bob, opened_at=now)

    # The copy bounces, then he marks it as spam.
    do_process_report_message(sample("postfix-hard-bounce.eml"))
    complaint = sample("arf-abuse.eml").replace(FRANK[0].encode(), EMAIL.encode())
    do_process_report_message(complaint.replace(FRANK[1].encode(), MESSAGE_ID.encode()))
    assert BounceEvent.objects.filter(person=bob).count() == 2

    # He asks for erasure (that email is sent: its finished row stays in the task
    # table), then for a copy of his data (that email waits in the queue with its link).
    client.post("/privacy/", {"email": EMAIL, "kind": "erase"})
    run_worker()
    client.post("/privacy/", {"email": EMAIL, "kind": "export"})
    # He also asked for a link to change his details (it waits, with a link made for
    # him), used the one he had been sent before to change his address, and never
    # confirmed it: the confirmation waits too, to the new address, with his name and a
    # link made for him, and so does the notice to his address with its cancel link.
    client.post(f"/profile/{make_member_token(bob.pk)}/")
    earlier = profile_edit_link(bob).split("testserver", 1)[1]
    client.post(earlier, {"new_email": "b.m@home.example"})
    assert DBTaskResult.objects.filter(status="READY").count() == 4
    [erase_email] = [m for m in mail.outbox if "erase" in m.subject]
    link = re.search(r"http://testserver(/privacy/confirm/\S+/)", erase_email.body)
    assert link

    # The search finds him everywhere he is before erasure (so it can find him after).
    before = where_found(NEEDLES)
    assert {
        "members_person",
        "petitions_signature",
        "mailings_mailingrecipient",
        "bounces_bounceevent",
        DBTaskResult._meta.db_table,
    } <= before.keys(), before
    assert "smtp_response" in before["mailings_mailingrecipient"]
    assert "detail" in before["bounces_bounceevent"]

    assert client.post(link[1]).status_code == 200

    assert not Person.objects.filter(email_normalised=EMAIL).exists()
    assert where_found(NEEDLES) == {}
    # The rows the mailing's totals need are still there, anonymous.
    assert MailingRecipient.objects.filter(mailing=campaign.mailing).count() == 1
    assert BounceEvent.objects.count() == 2
    assert Click.objects.count() == Open.objects.count() == 1
