"""kill -9 a worker in the middle of a send; a new worker finishes it.

Everyone receives the mailing exactly once, except at most the one message that was
being handed to the mail server when the worker died: that recipient is marked
unknown (shown to staff), never resent and never silently dropped. The dead worker
had a whole window of recipients marked *sending*; its journal tells the new worker
which of them went. Without the journal (the worker's machine is gone), the window
becomes unknown, still never resent.
"""

from __future__ import annotations

import signal
from collections import Counter
from pathlib import Path

import pytest

from groundswell.mailings import journal, lanes, recovery
from groundswell.mailings.models import Mailing, MailingRecipient, MailingStatus, RecipientState
from tests.cast import default_list, make_mailing, make_org, make_people, subscribe_all
from tests.mailings.processes import (
    SinkProcess,
    groundswell_env,
    run_groundswell,
    sink_process,
    start_worker,
)
from tests.waiting import wait_until

KILL_AFTER = 737


def states(mailing: Mailing) -> Counter[str]:
    return Counter(MailingRecipient.objects.filter(mailing=mailing).values_list("state", flat=True))


def mailing_to(count: int) -> Mailing:
    org = make_org()
    supporters = default_list(org)
    subscribe_all(make_people(count), supporters)
    return make_mailing(org, supporters)


def kill_a_worker_mid_send(
    mailing: Mailing, sink: SinkProcess, data_dir: Path, recipients: int
) -> dict[str, str]:
    """Start the send, SIGKILL its worker once KILL_AFTER are sent; the env to go on with."""
    env = groundswell_env(sink.port)
    env["GROUNDSWELL_DATA_DIR"] = str(data_dir)
    out = run_groundswell(env, "mailing", "send", str(mailing.pk))
    assert f"sending to {recipients} recipients" in out
    first = start_worker(env)
    try:
        wait_until(
            lambda: states(mailing)[RecipientState.SENT] >= KILL_AFTER, 60, "the first sends"
        )
        first.send_signal(signal.SIGKILL)
    finally:
        first.kill()
        first.wait(timeout=10)
    return env


def finish_with_a_new_worker(env: dict[str, str]) -> None:
    second = start_worker(env, "--burst")
    output, _ = second.communicate(timeout=180)
    assert second.returncode == 0, output


def assert_everyone_got_one_copy_but(
    mailing: Mailing, received: Counter[str], recipients: int, most_unknown: int
) -> list[str]:
    rows = {r.email: r for r in MailingRecipient.objects.filter(mailing=mailing)}
    counts = Counter(r.state for r in rows.values())
    unknown = sorted(email for email, r in rows.items() if r.state == RecipientState.UNKNOWN)
    mailing.refresh_from_db()
    print(f"after the second worker: {dict(counts)}")

    assert mailing.status == MailingStatus.SENT
    assert set(counts) <= {RecipientState.SENT, RecipientState.UNKNOWN}
    assert len(unknown) <= most_unknown
    assert counts[RecipientState.SENT] + len(unknown) == recipients
    assert {email: n for email, n in received.items() if n > 1} == {}
    for email, row in rows.items():
        if row.state == RecipientState.SENT:
            assert received[email] == 1, email
        else:
            assert received[email] <= 1, email  # went or not: staff decide, we never resend
    assert set(received) <= set(rows)
    return unknown


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_killed_worker_loses_and_repeats_nothing_but_its_one_message_in_flight(
    tmp_path: Path,
) -> None:
    recipients = 3000
    mailing = mailing_to(recipients)
    data_dir = tmp_path / "data"

    with sink_process(tmp_path) as sink:
        env = kill_a_worker_mid_send(mailing, sink, data_dir, recipients)
        at_kill = states(mailing)
        print(f"at the kill: {dict(at_kill)}")
        assert at_kill[RecipientState.SENT] < recipients, "the worker finished before the kill"
        # The dead worker left a window in *sending*, and its journal.
        assert at_kill[RecipientState.SENDING] <= lanes.WINDOW
        (left,) = (data_dir / "send-journal").glob("*.journal")
        replay = journal.parse(left.read_bytes())
        assert replay is not None
        assert len(replay.started - set(replay.answers)) <= 1

        finish_with_a_new_worker(env)
        received = sink.counts()

    assert_everyone_got_one_copy_but(mailing, received, recipients, most_unknown=1)
    # Replayed and removed, like the journals of the lanes that ended cleanly.
    assert list((data_dir / "send-journal").iterdir()) == []


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_without_its_journal_a_killed_worker_leaves_at_most_its_window_unknown(
    tmp_path: Path,
) -> None:
    recipients = 1500
    mailing = mailing_to(recipients)
    data_dir = tmp_path / "data"

    with sink_process(tmp_path) as sink:
        env = kill_a_worker_mid_send(mailing, sink, data_dir, recipients)
        in_window = set(
            MailingRecipient.objects.filter(
                mailing=mailing, state=RecipientState.SENDING
            ).values_list("email", flat=True)
        )
        assert len(in_window) <= lanes.WINDOW
        for left in (data_dir / "send-journal").iterdir():
            left.unlink()  # as if the worker's machine were gone

        finish_with_a_new_worker(env)
        received = sink.counts()

    unknown = assert_everyone_got_one_copy_but(
        mailing, received, recipients, most_unknown=lanes.WINDOW
    )
    assert set(unknown) == in_window
    reasons = set(
        MailingRecipient.objects.filter(mailing=mailing, state=RecipientState.UNKNOWN).values_list(
            "smtp_response", flat=True
        )
    )
    assert reasons <= {recovery.UNKNOWN_NO_JOURNAL}
