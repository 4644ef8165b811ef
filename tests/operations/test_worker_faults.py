"""A task worker stopped or killed in the middle of its work (taskworker.py).

SIGTERM in the middle of a send and of a batch of thank-you emails: the worker exits
within 10 seconds, and another worker finishes what it was doing, every message sent
exactly once. kill -9 in the middle of a people import: the task runs again on another
worker and the people are imported once. (kill -9 in the middle of a send:
tests/mailings/test_crash_safety.py.)"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.db import connection
from django_tasks_db import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from groundswell.members.models import Person, Subscription
from groundswell.petitions.models import Petition, Signature
from groundswell.petitions.tasks import send_thank_you_emails
from groundswell.workspace.actions.imports import do_run_import, do_upload_import, progress_file
from groundswell.workspace.models import ImportStatus, PeopleImport
from groundswell.workspace.tasks import run_people_import
from tests.cast import default_list, make_mailing, make_org, make_people, subscribe_all
from tests.conftest import free_port
from tests.mailings.processes import groundswell_env, run_groundswell, sink_process, start_worker
from tests.mailings.test_crash_safety import assert_everyone_got_one_copy_but, states
from tests.waiting import wait_until

STOP_WITHIN = 10.0


def enqueue(task: Any, *args: Any) -> None:
    """Into the database queue, as the site would (the tests' own backend runs tasks
    at once)."""
    backend = DatabaseBackend("default", {})
    backend._task_to_db_task(task, args, {})


def stop(worker: subprocess.Popen[str]) -> float:
    """SIGTERM, and the seconds until the worker exited."""
    started = time.monotonic()
    worker.send_signal(signal.SIGTERM)
    try:
        output, _ = worker.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()
        output, _ = worker.communicate()
    print(output)  # shown when the test fails
    return time.monotonic() - started


def finish_with_a_new_worker(env: dict[str, str]) -> str:
    second = start_worker(env, "--burst")
    output, _ = second.communicate(timeout=120)
    assert second.returncode == 0, output
    return output


@pytest.mark.slow
@pytest.mark.alone
@pytest.mark.django_db(transaction=True)
def test_a_worker_stopped_mid_send_stops_at_once_and_another_sends_the_rest(
    tmp_path: Path,
) -> None:
    recipients = 600
    # 40 a second: the worker's lane would run its whole 20-second slice.
    org = make_org()
    supporters = default_list(org)
    subscribe_all(make_people(recipients), supporters)
    mailing = make_mailing(org, supporters, rate_limit=40)

    with sink_process(tmp_path) as sink:
        env = groundswell_env(sink.port)
        env["GROUNDSWELL_DATA_DIR"] = str(tmp_path / "data")
        run_groundswell(env, "mailing", "send", str(mailing.pk))
        first = start_worker(env)
        wait_until(lambda: states(mailing)["sent"] >= 40, 60, "the first sends")
        took = stop(first)
        at_stop = states(mailing)
        print(f"stopped in {took:.1f} s: {dict(at_stop)}")

        assert took < STOP_WITHIN
        assert at_stop["sent"] < recipients, "the send finished before the stop"
        assert at_stop["sending"] == 0, "the stopped worker handed its window back"
        type(mailing).objects.filter(pk=mailing.pk).update(rate_limit=None)
        finish_with_a_new_worker(env)
        received = sink.counts()

    # A clean stop leaves nothing unknown: everyone exactly once.
    assert_everyone_got_one_copy_but(mailing, received, recipients, most_unknown=0)


class SlowSink:
    """An SMTP server in this process that takes `delay` seconds over each message."""

    def __init__(self) -> None:
        self.delay = 0.1
        self.received: Counter[str] = Counter()
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(self.delay)
        with self.lock:
            self.received.update(envelope.rcpt_tos)
        return "250 OK queued"

    def total(self) -> int:
        with self.lock:
            return sum(self.received.values())


@contextmanager
def slow_sink() -> Iterator[tuple[SlowSink, int]]:
    handler = SlowSink()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@pytest.mark.slow
@pytest.mark.alone
@pytest.mark.django_db(transaction=True)
def test_a_worker_stopped_mid_batch_of_thank_yous_hands_the_rest_to_another(
    petition: Petition, tmp_path: Path
) -> None:
    people = make_people(150, prefix="thanked")
    Signature.objects.bulk_create(Signature(petition=petition, person=p) for p in people)
    ids = list(Signature.objects.filter(petition=petition).values_list("pk", flat=True))
    enqueue(send_thank_you_emails, ids)

    with slow_sink() as (sink, port):
        env = groundswell_env(port)
        env["GROUNDSWELL_DATA_DIR"] = str(tmp_path / "data")
        first = start_worker(env)
        # 150 messages at 0.1 s each: 15 s were the worker to finish the batch.
        wait_until(lambda: sink.total() >= 10, 60, "the first thank-yous")
        took = stop(first)
        at_stop = sink.total()
        print(f"stopped in {took:.1f} s after {at_stop} thank-yous")

        assert took < STOP_WITHIN
        assert at_stop < len(ids), "the batch finished before the stop"
        sink.delay = 0
        finish_with_a_new_worker(env)
        received = Counter(sink.received)

    assert received == Counter({p.email: 1 for p in people})
    assert not Signature.objects.filter(petition=petition, thanked_at=None).exists()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_an_import_whose_worker_was_killed_runs_again_and_imports_everyone_once(
    tmp_path: Path,
) -> None:
    rows = 4000 if connection.vendor == "sqlite" else 3000
    supporters = default_list(make_org())
    text = "email,first_name\n" + "".join(f"imported{i}@example.org,Name{i}\n" for i in range(rows))
    job = do_upload_import(
        mailing_list=supporters,
        petition=None,
        file_name="people.csv",
        text=text,
        columns={"email": 0, "first_name": 1},
        consent_text="Yes, keep me updated.",
        source="stall",
        actor="alice",
    )
    PeopleImport.objects.filter(pk=job.pk).update(status=ImportStatus.QUEUED)
    enqueue(run_people_import, job.pk)
    data_dir = tmp_path / "data"

    with sink_process(tmp_path) as sink:
        env = groundswell_env(sink.port)
        env["GROUNDSWELL_DATA_DIR"] = str(data_dir)
        first = start_worker(env)
        with _settings_data_dir(data_dir):
            progress = progress_file(job.pk)
        wait_until(progress.exists, 60, "the import to be under way")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        job.refresh_from_db()

        assert job.status == ImportStatus.RUNNING  # as the dead worker left it
        assert not Person.objects.filter(email__startswith="imported").exists()

        output = finish_with_a_new_worker(env)

    job.refresh_from_db()
    print(output)
    assert job.status == ImportStatus.DONE, job.error
    assert job.imported == rows
    assert Person.objects.filter(email__startswith="imported").count() == rows
    assert (
        Subscription.objects.filter(
            mailing_list=supporters, person__email__startswith="imported"
        ).count()
        == rows
    )
    assert not DBTaskResult.objects.filter(status="RUNNING").exists()


@contextmanager
def _settings_data_dir(path: Path) -> Iterator[None]:
    from django.conf import settings

    old = settings.DATA_DIR
    settings.DATA_DIR = path
    try:
        yield
    finally:
        settings.DATA_DIR = old


@pytest.mark.django_db
def test_an_import_whose_worker_is_stopping_goes_back_to_the_queue_untouched(
    monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    supporters = default_list(make_org())
    text = "email\n" + "".join(f"stopped{i}@example.org\n" for i in range(1200))
    job = do_upload_import(
        mailing_list=supporters,
        petition=None,
        file_name="people.csv",
        text=text,
        columns={"email": 0},
        consent_text="Yes, keep me updated.",
        source="stall",
        actor="alice",
    )
    PeopleImport.objects.filter(pk=job.pk).update(status=ImportStatus.QUEUED)
    monkeypatch.setattr("groundswell.workspace.actions.imports.tasks_should_stop", lambda: True)

    with django_capture_on_commit_callbacks() as callbacks:
        do_run_import(job.pk)

    job.refresh_from_db()
    assert job.status == ImportStatus.QUEUED
    assert not Person.objects.filter(email__startswith="stopped").exists()
    assert len(callbacks) == 1  # the task queued again, for another worker
