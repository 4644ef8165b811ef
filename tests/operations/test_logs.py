"""LOG_FORMAT=json: one JSON object a line, with the request's id and nothing that
names a person."""

from __future__ import annotations

import io
import json
import logging
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from groundswell.lib.logs import JsonLines
from groundswell.lib.summaries import log_summary
from groundswell.mailings.actions.send import do_start_send
from groundswell.petitions.actions.signing import SignatureDetails
from groundswell.petitions.models import Petition
from tests.cast import default_list, make_mailing, make_org, make_people, subscribe_all
from tests.conftest import SmtpSink
from tests.petitions.test_writer_service import Running, sign_together

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """What the django.request and groundswell loggers write, formatted as JSON lines."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLines())
    loggers = [logging.getLogger("django.request"), logging.getLogger("groundswell")]
    for logger in loggers:
        logger.addHandler(handler)
    yield stream
    for logger in loggers:
        logger.removeHandler(handler)


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_logged_request_carries_the_proxys_id_and_not_its_path(
    client: Client, json_log: io.StringIO
) -> None:
    response = client.get(
        "/unsubscribe/not-a-real-token-but-one-like-it/", HTTP_X_REQUEST_ID="lb-7f3a9c21"
    )

    assert response.status_code == 404
    [line] = lines(json_log)
    assert line["message"] == "Not Found"
    assert line["status"] == 404
    assert line["level"] == "WARNING"
    assert line["request_id"] == "lb-7f3a9c21"
    assert "token" not in json_log.getvalue()


def test_it_makes_its_own_id_instead_of_an_unusable_one(
    client: Client, json_log: io.StringIO
) -> None:
    client.get("/no-such-page/", HTTP_X_REQUEST_ID="bob@example.org <script>")

    [line] = lines(json_log)
    assert re.fullmatch(r"[0-9a-f]{16}", str(line["request_id"]))
    assert "bob@" not in json_log.getvalue()


def test_a_line_outside_any_request_has_no_request_id(
    client: Client, json_log: io.StringIO
) -> None:
    client.get("/no-such-page/")
    logging.getLogger("groundswell.tests").warning("after the request")

    assert "request_id" not in lines(json_log)[-1]


def test_an_exception_is_logged_without_its_message() -> None:
    try:
        raise ValueError("duplicate key: Key (email)=(bob@example.org) already exists")
    except ValueError:
        record = logging.LogRecord(
            "groundswell.petitions", logging.ERROR, __file__, 1, "Writing failed", (), None
        )
        record.exc_info = sys.exc_info()

    line = json.loads(JsonLines().format(record))

    assert line["message"] == "Writing failed"
    assert line["exception"] == "ValueError"
    assert any("test_logs.py" in frame for frame in line["frames"])  # type: ignore[union-attr]
    assert "bob@" not in json.dumps(line)


@pytest.fixture
def info_json_log(json_log: io.StringIO) -> Iterator[io.StringIO]:
    """The same, from INFO up (summary lines are INFO)."""
    logger = logging.getLogger("groundswell")
    level = logger.level
    logger.setLevel(logging.INFO)
    yield json_log
    logger.setLevel(level)


def summaries(stream: io.StringIO, title: str) -> list[dict[str, Any]]:
    return [
        line["summary"]  # type: ignore[misc]
        for line in lines(stream)
        if str(line["message"]).startswith(f"{title}:")
    ]


@pytest.fixture
def short_data_dir(settings: Any) -> Iterator[Path]:
    # A Unix socket's path must stay under about 100 characters.
    path = Path(tempfile.mkdtemp(prefix="gs-l-"))
    settings.DATA_DIR = path
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.django_db(transaction=True)
def test_the_signature_writer_logs_its_batches_and_no_signer(
    petition: Petition, short_data_dir: Path, info_json_log: io.StringIO
) -> None:
    writer = Running()
    for name in ("bob", "zoe"):
        sign_together(petition, SignatureDetails(f"{name}@example.org", name, "Signer"))
    writer.stop()

    [summary] = summaries(info_json_log, "signature writer")
    assert summary["batches"] == 2
    assert summary["signatures"] == 2
    assert summary["not_written"] == 0
    assert summary["slowest_ms"] >= summary["mean_ms"] > 0
    assert "@" not in info_json_log.getvalue()
    assert "zoe" not in info_json_log.getvalue().lower()


def test_a_send_lane_logs_what_it_sent_and_no_recipient(
    smtp_sink: SmtpSink, django_capture_on_commit_callbacks: Any, info_json_log: io.StringIO
) -> None:
    org = make_org()
    supporters = default_list(org)
    subscribe_all(make_people(3), supporters)
    with django_capture_on_commit_callbacks(execute=True):
        do_start_send(make_mailing(org, supporters))  # the lanes run at once under tests

    [summary] = summaries(info_json_log, "send lane")
    assert (summary["sent"], summary["failed"], summary["unknown"]) == (3, 0, 0)
    assert summary["stopped"] == "nothing ready"
    assert "@" not in info_json_log.getvalue()


def test_a_summary_reads_as_text_in_the_plain_log() -> None:
    stream = io.StringIO()
    logger = logging.getLogger("groundswell.tests.summary")
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        log_summary(logger, "send lane", {"sent": 3, "unknown": 0})
    finally:
        logger.removeHandler(handler)

    assert stream.getvalue() == "send lane: sent=3 unknown=0\n"
