"""`groundswell serve` stops within ten seconds of Ctrl-C or SIGTERM, under load,
and keeps every signature it acknowledged and every click it counted.

A real server on a free port of 127.0.0.1 with its own data directory (SQLite),
three workers and the signature writer; signers and clickers keep it busy from
threads of this process until the signal. Ctrl-C is what a terminal does: SIGINT
to every process of the group. SIGTERM is what a service manager sends the server.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.db import connection

from tests.serving import server_env
from tests.waiting import wait_until

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "sqlite",
        reason="the server under test keeps its own SQLite database; once is enough",
    ),
    # It times the server's exit: it runs with the machine to itself.
    pytest.mark.slow,
    pytest.mark.alone,
]

STOP_WITHIN = 10.0
LOAD_SECONDS = 2.0
MEMBERS = 50

SETUP = """
import json
from django.utils import timezone
from groundswell.lib.tokens import make_member_token
from groundswell.mailings.models import Mailing, TrackedLink
from groundswell.members.models import Person
from groundswell.orgs.models import MailingList, Organisation
from groundswell.petitions.models import Petition, PetitionSponsor

org = Organisation.objects.create(
    name="Open Press", slug="open-press", website="https://open-press.example.org/",
    postal_address="1 Printing House Yard", sender_name="Open Press",
    privacy_policy_url="https://open-press.example.org/privacy",
    sender_email="hello@open-press.example.org",
)
MailingList.objects.create(organisation=org, name="Supporters", slug="supporters", is_default=True)
petition = Petition.objects.create(
    slug="cancel-the-contract", title="Cancel the contract", target="the agency",
    statement="Cancel it.", goal=100, status="open", opened_at=timezone.now(),
)
PetitionSponsor.objects.create(petition=petition, organisation=org, position=0)
mailing = Mailing.objects.create(
    organisation=org, from_name="Open Press", from_email="hello@open-press.example.org",
    subject="Friday", body="Hello", petition=petition, status="sent",
)
TrackedLink.objects.create(
    mailing=mailing, number=1, kind="external", url="https://news.example.com/", label="news"
)
people = [
    Person.objects.create(
        email=f"member{i}@example.org", email_normalised=f"member{i}@example.org",
        first_name="Member",
    )
    for i in range(%(members)d)
]
print(json.dumps({"go": f"/go/{mailing.pk}/1/", "tokens": [
    make_member_token(p.pk, mailing.pk) for p in people
]}))
"""


def groundswell(*args: str) -> list[str]:
    return [str(Path(sys.executable).with_name("groundswell")), *args]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    data_dir: Path
    go: str
    tokens: list[str]
    acknowledged: list[str] = field(default_factory=list)
    clicks: list[int] = field(default_factory=lambda: [0])

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def answers(self) -> bool:
        try:
            conn = self.connect()
            conn.request("GET", "/sign/cancel-the-contract.json")
            return conn.getresponse().status == 200
        except OSError:
            return False

    def stored(self) -> tuple[set[str], int]:
        db = sqlite3.connect(self.data_dir / "groundswell.sqlite3")
        try:
            emails = {
                email
                for (email,) in db.execute(
                    "SELECT p.email FROM petitions_signature s "
                    "JOIN members_person p ON p.id = s.person_id"
                )
            }
            (clicks,) = db.execute("SELECT COUNT(*) FROM tracking_click").fetchone()
        finally:
            db.close()
        return emails, clicks


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    env = {k: v for k, v in server_env().items() if k != "DATABASE_URL"}
    env.update(
        GROUNDSWELL_DATA_DIR=str(tmp_path),
        BASE_URL="http://127.0.0.1",
        ALLOWED_HOSTS="127.0.0.1",
        TASKS_BACKEND="immediate",
    )
    subprocess.run(groundswell("migrate", "-v0"), env=env, check=True, timeout=120)
    made = subprocess.run(
        groundswell("shell", "-c", SETUP % {"members": MEMBERS}),
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    cast = json.loads(made.stdout.strip().splitlines()[-1])
    port = free_port()
    process = subprocess.Popen(
        groundswell("serve", "--bind", f"127.0.0.1:{port}", "--workers", "3"),
        env=env,
        # Its own process group, so that the test can be the terminal pressing Ctrl-C.
        start_new_session=True,
        stdout=subprocess.DEVNULL,
    )
    running = Server(process, port, tmp_path, cast["go"], cast["tokens"])
    try:
        wait_until(running.answers, timeout=60, message="the server to answer")
        yield running
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def sign_until(server: Server, stop: threading.Event, worker: int) -> None:
    conn = server.connect()
    conn.request("GET", "/sign/cancel-the-contract/")
    page = conn.getresponse()
    body = page.read().decode()
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    assert found is not None
    cookie = next(
        value.split(";")[0]
        for name, value in page.getheaders()
        if name.lower() == "set-cookie" and value.startswith("csrftoken=")
    )
    for n in range(100_000):
        if stop.is_set():
            return
        email = f"signer{worker}-{n}@example.org"
        form = {
            "csrfmiddlewaretoken": found[1],
            "first_name": "Signer",
            "last_name": str(n),
            "email": email,
            "postal_code": "N1 9GU",
            "country": "GB",
        }
        try:
            conn.request(
                "POST",
                "/sign/cancel-the-contract/",
                urlencode(form),
                {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
            )
            response = conn.getresponse()
            response.read()
        except OSError:
            return  # the server went away: this signature was never acknowledged
        if response.status == 303:
            server.acknowledged.append(email)


def click_until(server: Server, stop: threading.Event, worker: int) -> None:
    conn = server.connect()
    for n in range(100_000):
        if stop.is_set():
            return
        token = server.tokens[(worker * 7 + n) % len(server.tokens)]
        try:
            conn.request("GET", f"{server.go}?akid={token}")
            response = conn.getresponse()
            response.read()
        except OSError:
            return
        if response.status == 302:
            server.clicks[0] += 1


def stop_under_load(server: Server, send: signal.Signals, to_group: bool) -> float:
    stop = threading.Event()
    threads = [threading.Thread(target=sign_until, args=(server, stop, i)) for i in range(4)]
    threads += [threading.Thread(target=click_until, args=(server, stop, i)) for i in range(4)]
    for thread in threads:
        thread.start()
    wait_until(
        lambda: len(server.acknowledged) >= 20 and server.clicks[0] >= 50,
        timeout=30,
        message="signatures and clicks under way",
    )
    time.sleep(LOAD_SECONDS)
    started = time.monotonic()
    if to_group:
        os.killpg(server.process.pid, send)
    else:
        server.process.send_signal(send)
    try:
        server.process.wait(STOP_WITHIN + 20)
    finally:
        took = time.monotonic() - started
        stop.set()
        for thread in threads:
            thread.join(30)
    return took


class TestServeShutdown:
    @pytest.mark.parametrize(
        ("send", "to_group"),
        [(signal.SIGINT, True), (signal.SIGTERM, False)],
        ids=["ctrl-c", "sigterm"],
    )
    def test_it_stops_in_time_keeping_every_acknowledged_signature_and_click(
        self, server: Server, send: signal.Signals, to_group: bool
    ) -> None:
        took = stop_under_load(server, send, to_group)

        assert took < STOP_WITHIN
        assert server.process.returncode == 0
        # Nothing of the server is left: not a worker, not the signature writer.
        assert subprocess.run(["pgrep", "-g", str(server.process.pid)]).returncode == 1
        signed, clicks = server.stored()
        assert set(server.acknowledged) <= signed
        # Each clicker may have had one click counted whose answer it never got.
        assert server.clicks[0] <= clicks <= server.clicks[0] + 4
