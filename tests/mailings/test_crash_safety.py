"""kill -9 a worker in the middle of a send; a new worker finishes it.

Everyone receives the mailing exactly once, except at most the one message that was
being handed to the mail server when the worker died: that recipient is marked
unknown (shown to staff), never resent and never silently dropped.
"""

from __future__ import annotations

import signal
from collections import Counter
from pathlib import Path

import pytest

from groundswell.mailings.models import Mailing, MailingRecipient, MailingStatus, RecipientState
from tests.mailings.processes import (
    groundswell_env,
    run_groundswell,
    sink_process,
    start_worker,
    wait_for,
)
from tests.mailings.send_cast import make_list, make_mailing, make_org, make_people, subscribe

RECIPIENTS = 3000
KILL_AFTER = 737


def sent_count(mailing: Mailing) -> int:
    return MailingRecipient.objects.filter(mailing=mailing, state=RecipientState.SENT).count()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_killed_worker_loses_and_repeats_nothing_but_its_one_message_in_flight(
    tmp_path: Path,
) -> None:
    org = make_org()
    supporters = make_list(org, "supporters", is_default=True)
    subscribe(make_people(RECIPIENTS), supporters)
    mailing = make_mailing(org, supporters)

    with sink_process(tmp_path) as sink:
        env = groundswell_env(sink.port)
        out = run_groundswell(env, "mailing", "send", str(mailing.pk))
        assert f"sending to {RECIPIENTS} recipients" in out

        first = start_worker(env)
        try:
            # Kill it mid-batch (batches are 100), once a good part has gone.
            wait_for(lambda: sent_count(mailing) >= KILL_AFTER, 60, "the first sends")
            first.send_signal(signal.SIGKILL)
        finally:
            first.kill()
            first.wait(timeout=10)
        at_kill = sent_count(mailing)
        assert at_kill < RECIPIENTS, "the worker finished before it could be killed"
        stuck = Counter(
            MailingRecipient.objects.filter(mailing=mailing).values_list("state", flat=True)
        )
        # What the dead worker left: a claimed batch, and at most one message in flight.
        assert stuck[RecipientState.SENDING] <= 1
        print(f"at the kill: {dict(stuck)}")

        second = start_worker(env, "--burst")
        output, _ = second.communicate(timeout=120)
        assert second.returncode == 0, output

        received = sink.counts()

    rows = {r.email: r for r in MailingRecipient.objects.filter(mailing=mailing)}
    states = Counter(r.state for r in rows.values())
    unknown = [email for email, r in rows.items() if r.state == RecipientState.UNKNOWN]
    mailing.refresh_from_db()
    print(f"after the second worker: {dict(states)}; unknown: {unknown}")

    assert mailing.status == MailingStatus.SENT
    assert set(states) <= {RecipientState.SENT, RecipientState.UNKNOWN}
    assert len(unknown) <= 1  # one SMTP connection, one message in flight at most
    assert states[RecipientState.SENT] + len(unknown) == RECIPIENTS
    twice = {email: n for email, n in received.items() if n > 1}
    assert twice == {}
    for email, row in rows.items():
        if row.state == RecipientState.SENT:
            assert received[email] == 1, email
        else:
            assert received[email] <= 1, email  # went or not: staff decide, we never resend
    assert set(received) <= set(rows)
