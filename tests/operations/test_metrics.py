"""/metrics: Prometheus's text format for whoever is allowed, and figures that move
when people sign, click and get mail."""

from __future__ import annotations

import os
import subprocess
from datetime import timedelta
from ipaddress import ip_network
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from prometheus_client.parser import text_string_to_metric_families

from groundswell.mailings.models import MailingRecipient, RecipientState
from groundswell.members.tasks import send_member_email
from groundswell.petitions.models import Petition
from groundswell.tracking.recording import flush_all
from tests.mailings.processes import GROUNDSWELL
from tests.petitions.conftest import sign_data
from tests.tracking.cast import make_cast

TOKEN = "metrics-token-for-tests-0123456789"


@pytest.fixture
def token(settings: Any) -> str:
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def scrape(client: Client) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}", HTTP_HOST="10.0.0.5")
    assert response.status_code == 200, response.content
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def value(figures: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str):
    return figures.get((name, frozenset(labels.items())), 0.0)


@pytest.mark.django_db
class TestWhoMayRead:
    def test_it_is_not_there_for_anyone_when_nothing_is_configured(self, client: Client) -> None:
        assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 404

    def test_it_answers_the_token_in_prometheus_text_format(self, client: Client, token: str):
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")

        assert response.status_code == 200
        assert response["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
        assert b"# TYPE groundswell_signatures_accepted_total counter" in response.content

    def test_it_is_not_there_for_a_wrong_token(self, client: Client, token: str) -> None:
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}x")

        assert response.status_code == 404

    def test_it_answers_an_allowed_address_asking_by_ip(self, client: Client, settings: Any):
        settings.METRICS_ALLOW = [ip_network("10.0.0.0/8")]

        response = client.get("/metrics", REMOTE_ADDR="10.9.8.7", HTTP_HOST="10.0.0.5")

        assert response.status_code == 200

    def test_it_is_not_there_for_an_address_outside_the_list(self, client: Client, settings: Any):
        settings.METRICS_ALLOW = [ip_network("10.0.0.0/8")]

        assert client.get("/metrics", REMOTE_ADDR="192.0.2.1").status_code == 404

    def test_it_wants_the_token_from_behind_a_reverse_proxy(self, client: Client, settings: Any):
        # The proxy's own address is allowed, but then so would be the whole world.
        settings.METRICS_ALLOW = [ip_network("127.0.0.1")]

        response = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4")

        assert response.status_code == 404


# Committed, as in production: the figures move once the signature is.
@pytest.mark.django_db(transaction=True)
class TestSigningFigures:
    def test_a_signature_moves_the_signing_figures(
        self,
        client: Client,
        token: str,
        petition: Petition,
    ) -> None:
        before = scrape(client)

        response = client.post(f"/sign/{petition.slug}/", sign_data(petition))
        after = scrape(client)

        assert response.status_code == 303
        moved = {
            name: value(after, name, **labels) - value(before, name, **labels)
            for name, labels in [
                ("groundswell_signatures_accepted_total", {}),
                ("groundswell_sign_seconds_count", {}),
                ("groundswell_sign_batch_size_count", {}),
                ("groundswell_sign_batch_size_sum", {}),
                ("groundswell_http_responses_total", {"status": "303"}),
            ]
        }
        assert moved == {
            "groundswell_signatures_accepted_total": 1,
            "groundswell_sign_seconds_count": 1,
            "groundswell_sign_batch_size_count": 1,
            "groundswell_sign_batch_size_sum": 1,
            "groundswell_http_responses_total": 1,
        }

    def test_signing_again_is_answered_but_not_counted_as_a_signature(
        self,
        client: Client,
        token: str,
        petition: Petition,
    ) -> None:
        client.post(f"/sign/{petition.slug}/", sign_data(petition))
        before = scrape(client)

        client.post(f"/sign/{petition.slug}/", sign_data(petition))
        after = scrape(client)

        name = "groundswell_signatures_accepted_total"
        assert value(after, name) == value(before, name)
        assert value(after, "groundswell_sign_seconds_count") == (
            value(before, "groundswell_sign_seconds_count") + 1
        )


@pytest.mark.django_db
class TestFigures:
    def test_a_click_moves_the_clicks_recorded(self, client: Client, token: str) -> None:
        cast = make_cast()
        before = scrape(client)

        client.get(f"/go/{cast.mailing.pk}/2/?akid={cast.token(cast.bob)}")
        flush_all()
        after = scrape(client)

        name = "groundswell_clicks_recorded_total"
        assert value(after, name) - value(before, name) == 1
        assert value(after, "groundswell_http_responses_total", status="302") >= 1

    def test_it_counts_recipients_by_state_from_the_database(
        self, client: Client, token: str
    ) -> None:
        cast = make_cast()
        MailingRecipient.objects.filter(person=cast.dora).update(state=RecipientState.UNKNOWN)

        figures = scrape(client)

        assert value(figures, "groundswell_mailing_messages", state="sent") == 1
        assert value(figures, "groundswell_mailing_messages", state="unknown") == 1
        assert value(figures, "groundswell_mailing_messages", state="failed") == 0

    def test_it_reads_the_task_queue_depth_and_age_from_the_database(
        self, client: Client, token: str, settings: Any
    ) -> None:
        settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
        empty = scrape(client)
        send_member_email.enqueue("privacy-export", "bob@example.org", {"link": "http://x/"})
        send_member_email.using(run_after=timezone.now() + timedelta(hours=1)).enqueue(
            "privacy-export", "dora@example.org", {"link": "http://x/"}
        )
        # Queued five minutes ago, to run as soon as a worker is free.
        DBTaskResult.objects.filter(run_after__gt=timezone.now() + timedelta(days=1)).update(
            enqueued_at=timezone.now() - timedelta(minutes=5)
        )

        figures = scrape(client)

        assert value(empty, "groundswell_task_queue_depth") == 0
        assert value(empty, "groundswell_task_queue_age_seconds") == 0
        # The one due now; the other waits for its hour.
        assert value(figures, "groundswell_task_queue_depth") == 1
        assert 299 <= value(figures, "groundswell_task_queue_age_seconds") < 400


@pytest.mark.django_db
def test_it_adds_up_what_other_processes_counted(client: Client, token: str) -> None:
    # As the signature writer, a task worker or another web worker would.
    before = scrape(client)
    for _ in range(2):
        run_and_tell_pid(ADD_THREE_CLICKS)

    after = scrape(client)

    name = "groundswell_clicks_recorded_total"
    assert value(after, name) - value(before, name) == 6


@pytest.mark.django_db
def test_it_forgets_the_files_of_exited_processes_that_counted_nothing(
    client: Client, token: str
) -> None:
    # One-shot commands (migrate, a cron job) make files too.
    idle = run_and_tell_pid(COUNT_NOTHING)
    busy = run_and_tell_pid(ADD_THREE_CLICKS)
    files = {p.name for p in settings.METRICS_DIR.iterdir()}
    assert f"counter_{idle}.db" in files

    scrape(client)

    left = {p.name for p in settings.METRICS_DIR.iterdir()}
    assert not any(name.endswith(f"_{idle}.db") for name in left)
    assert f"counter_{busy}.db" in left  # its count stays in the sum


def run_and_tell_pid(code: str) -> str:
    env = dict(os.environ)
    env["GROUNDSWELL_DATA_DIR"] = str(settings.METRICS_DIR.parent)
    done = subprocess.run(
        [GROUNDSWELL, "shell", "-c", f"{code}; import os; print('pid', os.getpid())"],
        env=env,
        check=True,
        timeout=60,
        capture_output=True,
        text=True,
    )
    return done.stdout.split("pid ")[-1].strip()


ADD_THREE_CLICKS = "from groundswell.lib.metrics import CLICKS_RECORDED; CLICKS_RECORDED.inc(3)"
COUNT_NOTHING = "import groundswell.lib.metrics"
