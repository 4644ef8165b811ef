"""LOG_FORMAT=json: one JSON object a line, with the request's id and nothing that
names a person."""

from __future__ import annotations

import io
import json
import logging
import re
import sys
from collections.abc import Iterator

import pytest
from django.test import Client

from groundswell.lib.logs import JsonLines

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
