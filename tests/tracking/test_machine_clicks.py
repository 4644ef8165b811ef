"""Machine clicks: scanners, clicks too soon after sending, and bursts of links."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import strategies as st

from groundswell.lib.db import insert_all, insert_values
from groundswell.mailings.models import MailingRecipient
from groundswell.tracking import machine
from groundswell.tracking.models import Click
from groundswell.tracking.recording import CLICK_FIELDS, ClickEvent, write_clicks
from tests.cast import make_person
from tests.tracking.cast import Cast

CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126 Safari/537.36"
T0 = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


def timed(number: int, seconds: float) -> machine.TimedClick:
    return machine.TimedClick(
        ("new", number * 1000 + int(seconds * 10)), number, T0 + timedelta(seconds=seconds)
    )


class TestRule:
    @pytest.mark.parametrize(
        "agent",
        [
            "",
            "Mozilla/5.0 (compatible; BingPreview/1.0b)",
            "python-requests/2.31",
            "Mozilla/5.0 (compatible; Barracuda Sentinel)",
            "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.4266; Pro)",
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        ],
    )
    def test_it_knows_scanners_by_their_browser_name(self, agent):
        assert machine.scanner_reason(agent) == "scanner"

    @pytest.mark.parametrize(
        "agent",
        [
            CHROME,
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile",
            "Mozilla/5.0 (Linux; Android 10; CUBOT_X30) AppleWebKit/537.36 Chrome/120 Mobile",
            "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
        ],
    )
    def test_it_takes_browsers_for_people(self, agent):
        assert machine.scanner_reason(agent) == ""

    def test_a_click_seconds_after_sending_is_too_soon(self):
        assert machine.too_soon(T0 + timedelta(seconds=3), T0)
        assert not machine.too_soon(T0 + timedelta(seconds=machine.AFTER_SEND_SECONDS), T0)
        assert not machine.too_soon(T0, None)

    def test_three_links_within_two_seconds_are_a_burst(self):
        clicks = [timed(1, 0), timed(2, 0.5), timed(3, 1.9), timed(1, 30)]
        assert machine.burst_keys(clicks) == {c.key for c in clicks[:3]}

    def test_three_links_spread_over_more_than_two_seconds_are_not(self):
        assert machine.burst_keys([timed(1, 0), timed(2, 1.5), timed(3, 3.6)]) == set()

    def test_one_link_clicked_many_times_is_not_a_burst(self):
        assert machine.burst_keys([timed(1, s / 10) for s in range(10)]) == set()

    @given(
        st.lists(
            st.tuples(st.integers(1, 5), st.integers(0, 80)), max_size=40, unique_by=lambda c: c
        )
    )
    def test_it_finds_what_the_rule_says_in_one_pass(self, spec):
        # The rule read literally: a click is in a burst when some window of
        # BURST_SECONDS that holds it holds BURST_LINKS distinct links.
        clicks = [timed(number, tenths / 10) for number, tenths in spec]
        window = timedelta(seconds=machine.BURST_SECONDS)
        expected = set()
        for first in clicks:
            inside = [
                c for c in clicks if timedelta(0) <= c.clicked_at - first.clicked_at <= window
            ]
            if len({c.link_number for c in inside}) >= machine.BURST_LINKS:
                expected.update(c.key for c in inside)
        assert machine.burst_keys(clicks) == expected

    def test_it_marks_every_click_of_a_script_hammering_one_recipients_links(self):
        clicks = [timed(1, s / 10_000) for s in range(20_000)]
        clicks += [timed(2, 1.0), timed(3, 1.5)]
        # (Counted window by window, this took minutes, holding the writers' turn.)
        found = machine.burst_keys(clicks)
        assert len(found) == len({c.key for c in clicks if c.clicked_at >= T0})


def event(cast: Cast, number: int, at: datetime, person_id: int | None, agent: str = CHROME):
    return ClickEvent(
        mailing_id=cast.mailing.pk,
        link_number=number,
        person_id=person_id,
        at=at,
        ip_address="198.51.100.4",
        user_agent=agent,
        machine_reason=machine.scanner_reason(agent),
    )


@pytest.mark.django_db
class TestWrittenClicks:
    def test_a_scanner_following_every_link_at_once_is_flagged(self, cast):
        at = cast.sent_at + timedelta(minutes=5)
        write_clicks(
            [event(cast, n, at + timedelta(milliseconds=200 * n), cast.bob.pk) for n in (1, 2, 3)]
        )
        assert set(Click.objects.values_list("is_machine", "machine_reason")) == {(True, "burst")}

    def test_a_burst_split_over_two_batches_flags_the_earlier_clicks_too(self, cast):
        at = cast.sent_at + timedelta(minutes=5)
        write_clicks([event(cast, 1, at, cast.bob.pk), event(cast, 2, at, cast.bob.pk)])
        assert not Click.objects.filter(is_machine=True).exists()
        write_clicks([event(cast, 3, at + timedelta(seconds=1), cast.bob.pk)])
        assert Click.objects.filter(is_machine=True).count() == 3

    def test_a_later_batch_holding_earlier_clicks_is_judged_the_same(self, cast):
        # Two processes: the one holding the first clicks writes last.
        at = cast.sent_at + timedelta(minutes=5)
        write_clicks([event(cast, 3, at + timedelta(seconds=1), cast.bob.pk)])
        write_clicks([event(cast, 1, at, cast.bob.pk), event(cast, 2, at, cast.bob.pk)])
        assert Click.objects.filter(is_machine=True).count() == 3

    def test_clicks_within_seconds_of_sending_are_machines(self, cast):
        write_clicks([event(cast, 2, cast.sent_at + timedelta(seconds=4), cast.bob.pk)])
        assert Click.objects.get().machine_reason == "too-soon"

    def test_a_person_reading_then_clicking_two_links_is_a_person(self, cast):
        at = cast.sent_at + timedelta(minutes=40)
        write_clicks(
            [
                event(cast, 1, at, cast.bob.pk),
                event(cast, 2, at + timedelta(seconds=1), cast.bob.pk),
                event(cast, 3, at + timedelta(seconds=1), cast.dora.pk),
                event(cast, 3, at + timedelta(seconds=20), cast.bob.pk),
            ]
        )
        assert not Click.objects.filter(is_machine=True).exists()

    def test_two_recipients_clicking_at_once_are_not_one_burst(self, cast):
        at = cast.sent_at + timedelta(minutes=40)
        write_clicks(
            [
                event(cast, 1, at, cast.bob.pk),
                event(cast, 2, at, cast.dora.pk),
                event(cast, 3, at, None),
                event(cast, 2, at, None),
            ]
        )
        assert not Click.objects.filter(is_machine=True).exists()

    def test_a_known_scanner_is_a_machine_even_without_a_token(self, cast):
        write_clicks(
            [event(cast, 1, cast.sent_at + timedelta(hours=2), None, "python-requests/2.31")]
        )
        assert Click.objects.get().machine_reason == "scanner"


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's plan, made without statistics")
def test_it_finds_each_clicker_s_copy_by_mailing_and_person_not_by_sending_time(cast):
    # Along the sent_at index, each flush walked every recipient of the mailing: a
    # whole list's worth of rows for every batch of clicks after a big send.
    at = cast.sent_at + timedelta(minutes=5)
    others = [make_person(f"reader{i}@example.org", f"Reader{i}") for i in range(4)]
    clickers = [cast.bob, cast.dora, *others]
    with CaptureQueriesContext(connection) as written:
        write_clicks([event(cast, 1, at, person.pk) for person in clickers])
    (query,) = [q["sql"] for q in written.captured_queries if "mailingrecipient" in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {query}")
        plan = " ".join(str(row[-1]) for row in cursor.fetchall())

    assert "sent_at" not in plan
    assert "(mailing_id=? AND person_id=?)" in plan


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's plan")
def test_it_looks_up_each_clicker_s_copy_and_clicks_by_mailing_and_person_on_postgresql(cast):
    # Tables without statistics, as in the minutes after a send: asked with an array
    # a column, PostgreSQL read the mailing's every copy, and every click of the
    # last seconds, for each flush.
    at = cast.sent_at + timedelta(minutes=5)
    # A list's worth of copies, and of clicks in the last seconds (whose people are
    # left out: only the number of rows matters to the planner).
    insert_all(
        [
            MailingRecipient(mailing=cast.mailing, email=f"r{i}@example.org", sent_at=cast.sent_at)
            for i in range(20_000)
        ]
    )
    row = (cast.mailing.pk, 1, None, at, None, "", False, "")
    insert_values(Click, CLICK_FIELDS, [row] * 20_000)
    others = [make_person(f"reader{i}@example.org", f"Reader{i}") for i in range(4)]
    with CaptureQueriesContext(connection) as written:
        write_clicks([event(cast, 2, at, p.pk) for p in [cast.bob, cast.dora, *others]])
    reads = [q["sql"] for q in written.captured_queries if q["sql"].startswith("SELECT")]
    plans = []
    for query in reads:
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN {query}")
            plans.append("\n".join(row[0] for row in cursor.fetchall()))

    assert len(plans) == 2  # the copies' sending times, the clicks around these
    for plan in plans:
        assert "Seq Scan on mailings" not in plan and "Seq Scan on tracking" not in plan
        assert "mailing_id = k.m) AND" in plan and "person_id = k.p)" in plan, plan
