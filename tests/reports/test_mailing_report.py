"""The mailing report: numbers on a constructed mailing, the staff page, CSV and text."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from groundswell.mailings.models import MailingRecipient, RecipientState
from groundswell.members.models import Person
from groundswell.petitions.models import Signature, SignatureStatus
from groundswell.reports.mailings import (
    chart_timeline,
    format_report_text,
    mailing_report,
    summary_rows,
)
from groundswell.tracking.machine import scanner_reason
from groundswell.tracking.recording import ClickEvent, OpenEvent, write_clicks, write_opens
from tests.cast import make_person, make_staff
from tests.tracking.cast import Cast

pytestmark = pytest.mark.django_db

CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126 Safari/537.36"


def click(cast: Cast, number: int, minutes: float, person_id: int | None, agent: str = CHROME):
    return ClickEvent(
        mailing_id=cast.mailing.pk,
        link_number=number,
        person_id=person_id,
        at=cast.sent_at + timedelta(minutes=minutes),
        ip_address=None,
        user_agent=agent,
        machine_reason=scanner_reason(agent),
    )


def opened(cast: Cast, minutes: float, person_id: int):
    return OpenEvent(
        mailing_id=cast.mailing.pk,
        person_id=person_id,
        at=cast.sent_at + timedelta(minutes=minutes),
        ip_address=None,
        user_agent=CHROME,
    )


@pytest.fixture
def busy(cast: Cast) -> Cast:
    """Bob and Dora received it (sent), plus: Erin (sent, then scanned by a machine and
    complained), Frank (failed), Gina (unknown), Hal (bounced), Ivy (still queued)."""
    for name, state, extra in [
        ("erin", RecipientState.SENT, {"complained_at": timezone.now()}),
        ("frank", RecipientState.FAILED, {}),
        ("gina", RecipientState.UNKNOWN, {}),
        ("hal", RecipientState.SENT, {"bounced_at": timezone.now()}),
        ("ivy", RecipientState.QUEUED, {}),
    ]:
        person = make_person(f"{name}@example.org", name.title(), "Member", country="GB")
        MailingRecipient.objects.create(
            mailing=cast.mailing,
            person=person,
            email=person.email,
            state=state,
            sent_at=cast.sent_at if state == RecipientState.SENT else None,
            **extra,
        )
    MailingRecipient.objects.filter(person=cast.dora).update(unsubscribed_at=timezone.now())
    erin = MailingRecipient.objects.get(email="erin@example.org").person
    assert erin is not None
    write_opens(
        [
            opened(cast, 5, cast.bob.pk),
            opened(cast, 65, cast.bob.pk),
            opened(cast, 6, cast.dora.pk),
        ]
    )
    write_clicks(
        [
            # Bob clicks the petition twice and the news once: one unique person.
            click(cast, 1, 7, cast.bob.pk),
            click(cast, 1, 8, cast.bob.pk),
            click(cast, 2, 70, cast.bob.pk),
            # Dora clicks the news report.
            click(cast, 2, 9, cast.dora.pk),
            # A forwarded copy with the token stripped.
            click(cast, 1, 80, None),
            # Erin's mail scanner follows every link at once, seconds after sending.
            click(cast, 1, 0.05, erin.pk),
            click(cast, 2, 0.05, erin.pk),
            click(cast, 3, 0.06, erin.pk),
            # A link checker without a token.
            click(cast, 3, 30, None, "python-requests/2.31"),
        ]
    )
    Signature.objects.create(
        petition=cast.petition, person=cast.bob, mailing_id=cast.mailing.pk, link_number=1
    )
    Signature.objects.create(
        petition=cast.petition, person=cast.dora, mailing_id=cast.mailing.pk, link_number=None
    )
    Signature.objects.create(
        petition=cast.petition,
        person=erin,
        mailing_id=cast.mailing.pk,
        link_number=1,
        status=SignatureStatus.INVALIDATED,
    )
    return cast


class TestMailingReport:
    def test_it_counts_delivery(self, busy):
        report = mailing_report(busy.mailing)
        assert report["recipients"] == 7
        assert (report["sent"], report["failed"], report["unknown"], report["queued"]) == (
            4,
            1,
            1,
            1,
        )
        assert report["bounced"] == 1

    def test_it_counts_recipients_a_worker_has_claimed_as_waiting(self, busy):
        from groundswell.mailings.models import MailingRecipient, RecipientState

        before = mailing_report(busy.mailing)["queued"]
        recipient = MailingRecipient.objects.filter(
            mailing=busy.mailing, state=RecipientState.QUEUED
        ).first()
        assert recipient is not None
        MailingRecipient.objects.filter(pk=recipient.pk).update(state=RecipientState.CLAIMED)
        assert mailing_report(busy.mailing)["queued"] == before

    def test_it_counts_opens_once_per_person_and_in_total(self, busy):
        assert mailing_report(busy.mailing)["opens"] == {
            "unique": 2,
            "total": 3,
            "unique_rate": 0.5,
        }

    def test_it_counts_people_and_machines_apart(self, busy):
        clicks = mailing_report(busy.mailing)["clicks"]
        assert clicks["unique"] == 2  # Bob and Dora
        assert clicks["total"] == 5  # their four clicks and the forwarded one
        assert clicks["without_recipient"] == 1
        assert clicks["machine"] == 4  # Erin's scanner's three and the link checker
        assert clicks["machine_recipients"] == 1

    def test_it_counts_each_link(self, busy):
        links = {link["number"]: link for link in mailing_report(busy.mailing)["links"]}
        assert [links[n]["unique_clicks"] for n in (1, 2, 3)] == [1, 2, 0]
        assert [links[n]["clicks"] for n in (1, 2, 3)] == [3, 2, 0]
        assert [links[n]["machine_clicks"] for n in (1, 2, 3)] == [1, 1, 2]
        assert [links[n]["actions"] for n in (1, 2, 3)] == [1, 0, 0]
        assert links[2]["url"] == "https://news.example.com/2018/06/contract"
        assert links[2]["label"] == "the news report"

    def test_it_counts_valid_signatures_as_actions(self, busy):
        actions = mailing_report(busy.mailing)["actions"]
        assert actions == {"total": 2, "rate": 0.5, "without_link": 1}

    def test_it_counts_unsubscribes_and_warns_of_complaints(self, busy):
        report = mailing_report(busy.mailing)
        assert report["unsubscribes"]["total"] == 1
        assert report["complaints"] == {"total": 1, "rate": 0.25, "warning": True}

    def test_complaints_under_a_thousandth_do_not_warn(self, cast):
        people = Person.objects.bulk_create(
            Person(email=f"p{n}@example.org", email_normalised=f"p{n}@example.org")
            for n in range(1000)
        )
        MailingRecipient.objects.bulk_create(
            MailingRecipient(
                mailing=cast.mailing, person=p, email=p.email, state=RecipientState.SENT
            )
            for p in people
        )
        MailingRecipient.objects.filter(person=people[0]).update(complained_at=timezone.now())
        complaints = mailing_report(cast.mailing)["complaints"]
        assert complaints["total"] == 1 and not complaints["warning"]
        MailingRecipient.objects.filter(person=people[1]).update(complained_at=timezone.now())
        assert mailing_report(cast.mailing)["complaints"]["warning"]

    def test_its_timeline_has_every_hour_from_first_to_last(self, busy):
        timeline = mailing_report(busy.mailing)["timeline"]
        assert sum(h["opens"] for h in timeline) == 3
        assert sum(h["clicks"] for h in timeline) == 5
        assert sum(h["machine_clicks"] for h in timeline) == 4
        assert sum(h["actions"] for h in timeline) == 2
        assert len(timeline) >= 2
        hours = [h["hour"] for h in timeline]
        assert hours == sorted(hours) and len(set(hours)) == len(hours)

    def test_it_is_empty_for_a_mailing_nobody_received(self, cast):
        MailingRecipient.objects.all().delete()
        report = mailing_report(cast.mailing)
        assert report["sent"] == 0
        assert report["complaints"]["rate"] == 0.0
        assert report["timeline"] == []
        # No share of nothing: "0.0%" of no copies sent would mean nothing.
        assert {share for _label, _number, share in summary_rows(report)} == {""}

    def test_its_queries_do_not_grow_with_the_mailing(self, busy, django_assert_max_num_queries):
        with django_assert_max_num_queries(12):
            mailing_report(busy.mailing)

    def test_its_text_has_the_numbers_and_the_warning(self, busy):
        text = format_report_text(mailing_report(busy.mailing))
        assert "The contract ends on Friday" in text
        assert "Unique clicks (people)" in text
        assert "WARNING: complaints" in text
        assert "https://news.example.com/2018/06/contract" in text


class TestChartTimeline:
    """The chart's axis fits the events: minutes in the first hours, then hours, then days."""

    def test_it_steps_by_minutes_while_the_events_span_minutes(self, cast):
        write_opens([opened(cast, 2, cast.bob.pk), opened(cast, 14, cast.dora.pk)])
        chart = chart_timeline(cast.mailing)
        assert chart["step"] == "minute"
        assert len(chart["times"]) == 13
        assert sum(chart["series"]["opens"]) == 2

    def test_it_gives_a_single_event_an_axis_of_two_steps_not_years(self, cast):
        write_opens([opened(cast, 3, cast.bob.pk)])
        chart = chart_timeline(cast.mailing)
        assert (chart["step"], len(chart["times"]), chart["series"]["opens"]) == (
            "minute",
            2,
            [1, 0],
        )

    def test_it_steps_by_hours_over_a_few_days(self, cast):
        write_opens([opened(cast, 5, cast.bob.pk), opened(cast, 60 * 30, cast.dora.pk)])
        chart = chart_timeline(cast.mailing)
        assert chart["step"] == "hour"
        assert 30 <= len(chart["times"]) <= 32

    def test_it_steps_by_days_over_weeks(self, cast):
        write_opens([opened(cast, 5, cast.bob.pk), opened(cast, 60 * 24 * 20, cast.dora.pk)])
        write_clicks([click(cast, 1, 60 * 24 * 3, cast.bob.pk)])
        chart = chart_timeline(cast.mailing)
        assert chart["step"] == "day"
        assert 20 <= len(chart["times"]) <= 22
        assert sum(chart["series"]["clicks"]) == 1

    def test_it_is_empty_without_events(self, cast):
        assert chart_timeline(cast.mailing)["times"] == []


class TestReportPage:
    def test_it_is_for_staff_only(self, client: Client, busy):
        response = client.get(f"/staff/reports/mailings/{busy.mailing.pk}/")
        assert response.status_code == 302
        assert "/staff/login/" in response["Location"]
        User.objects.create_user("charlie", "c@example.org", "pw")
        client.login(username="charlie", password="pw")
        assert client.get(f"/staff/reports/mailings/{busy.mailing.pk}/").status_code == 404

    def test_it_shows_the_table_chart_and_warning(self, client: Client, busy):
        client.force_login(make_staff(organisation=busy.mailing.organisation))
        response = client.get(f"/staff/reports/mailings/{busy.mailing.pk}/")
        assert response.status_code == 200
        content = response.content.decode()
        assert "The contract ends on Friday unless we act" in content
        assert "Unique opens" in content
        assert 'id="report-chart-data"' in content
        assert "uPlot.iife.min.js" in content
        assert "Complaints are above 0.1%" in content
        assert "the news report" in content

    def test_it_answers_404_for_an_unknown_mailing(self, client: Client, cast):
        client.force_login(make_staff(organisation=cast.mailing.organisation))
        assert client.get("/staff/reports/mailings/999999/").status_code == 404

    def test_it_exports_csv_safe_for_spreadsheets(self, client: Client, busy):
        busy.links[1].label = '=HYPERLINK("https://evil.example")'
        busy.links[1].save()
        client.force_login(make_staff(organisation=busy.mailing.organisation))
        response = client.get(f"/staff/reports/mailings/{busy.mailing.pk}/csv/")
        assert response.status_code == 200
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        assert ["Unique opens", "2", "50.0%"] in rows
        assert any(
            row[:3] == ["2", busy.links[1].url, '\'=HYPERLINK("https://evil.example")']
            for row in rows
        )
