"""The SMTP transport against real servers on localhost: with PIPELINING (bench/smtp_sink.py,
which logs each recipient it accepted) the next envelope rides with this message's body;
without it (aiosmtpd), one command at a time."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from groundswell.mailings import smtp
from tests.conftest import SmtpSink
from tests.mailings.processes import SinkProcess, sink_process

SENDER = "hello@riverbank.example"
MESSAGE = b"Subject: The river\r\n\r\nDear friend,\r\n.a line that starts with a dot\r\n"


@pytest.fixture
def pipelining_sink(settings: Any, tmp_path: Path) -> Iterator[SinkProcess]:
    with sink_process(tmp_path) as sink:
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = ""
        yield sink


def address(name: str) -> str:
    return f"{name}@example.org"


class TestWithPipelining:
    def test_it_announces_the_next_message_with_this_ones_body_and_each_arrives_once(
        self, pipelining_sink: SinkProcess
    ) -> None:
        transport = smtp.SmtpTransport()
        outcomes = []
        names = ["bob", "frank", "zoe"]
        for name, following in zip(names, [*names[1:], None], strict=True):
            outcomes.append(
                transport.send(
                    SENDER, address(name), MESSAGE, address(following) if following else None
                )
            )
            assert transport.announced == ((SENDER, address(following)) if following else None)
        transport.close()

        assert [o.state for o in outcomes] == ["sent"] * 3
        assert pipelining_sink.counts() == Counter(address(n) for n in names)

    def test_an_announced_message_that_is_not_sent_never_arrives(
        self, pipelining_sink: SinkProcess
    ) -> None:
        transport = smtp.SmtpTransport()
        transport.send(SENDER, address("bob"), MESSAGE, address("frank"))
        # Someone else comes next after all (Frank's copy could not be built, say).
        outcome = transport.send(SENDER, address("zoe"), MESSAGE, address("charlie"))
        transport.close()  # Charlie's is announced too, and the lane stops

        assert outcome.state == "sent"
        # A later connection's message is logged after anything the first could still do.
        assert smtp.SmtpTransport().send(SENDER, address("alice"), MESSAGE).state == "sent"
        assert pipelining_sink.counts() == Counter(
            [address("bob"), address("zoe"), address("alice")]
        )


class TestWithoutPipelining:
    def test_it_sends_one_command_at_a_time_and_announces_nothing(
        self, smtp_sink: SmtpSink
    ) -> None:
        transport = smtp.SmtpTransport()
        first = transport.send(SENDER, address("bob"), MESSAGE, address("frank"))
        assert transport.announced is None
        second = transport.send(SENDER, address("frank"), MESSAGE)
        transport.close()

        assert (first.state, second.state) == ("sent", "sent")
        with smtp_sink.handler.lock:
            delivered = [rcpt for env in smtp_sink.handler.envelopes for rcpt in env.rcpt_tos]
            bodies = [env.content for env in smtp_sink.handler.envelopes]
        assert delivered == [address("bob"), address("frank")]
        assert all(b"\r\n.a line that starts" in body for body in bodies)
