"""kill -9 of the whole web server (granian's workers, the signature writer and its
supervisor) while people sign: every signature that was answered 303 is in the
database, the restarted server serves, and its count is exact."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import pytest

from groundswell.petitions.models import Petition, Signature
from tests.conftest import free_port
from tests.mailings.processes import database_url
from tests.petitions.conftest import sign_data
from tests.petitions.test_writer_service import _alive, _children
from tests.serving import start_serve, stop_serve, wait_until_ready
from tests.waiting import wait_until

SIGNERS = 8
# Acknowledged signatures to wait for before the kill (or this long at most).
BEFORE_KILL = 150
LOAD_SECONDS = 6.0
METRICS_TOKEN = "kill-test-token"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


class Signer(threading.Thread):
    """Signs with a new address again and again until stopped, noting which were
    answered 303 (acknowledged) and which had no answer (unknown)."""

    def __init__(self, base: str, petition: Petition, number: int, stop: threading.Event):
        super().__init__()
        self.base, self.petition, self.number, self.stop = base, petition, number, stop
        self.acknowledged: list[str] = []
        self.tried: list[str] = []
        self.other: list[int] = []

    def run(self) -> None:
        url = f"{self.base}/sign/{self.petition.slug}/"
        opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(CookieJar()), _NoRedirects()
        )
        try:
            page = opener.open(url, timeout=10).read().decode()
        except OSError:
            return
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert match is not None
        i = 0
        while not self.stop.is_set():
            email = f"kill{self.number}-{i}@example.org"
            i += 1
            data = sign_data(self.petition, email=email)
            data["csrfmiddlewaretoken"] = match.group(1)
            request = urllib.request.Request(
                url, data=urllib.parse.urlencode(data).encode(), headers={"Referer": url}
            )
            self.tried.append(email)
            try:
                status = opener.open(request, timeout=10).status
            except urllib.error.HTTPError as error:
                status = error.code
            except OSError:
                return  # the server is gone: no answer, so no promise
            if status == 303:
                self.acknowledged.append(email)
            else:
                self.other.append(status)


def start_server(data_dir: Path, port: int) -> subprocess.Popen[str]:
    return start_serve(
        port,
        data_dir=data_dir,
        database_url=database_url(),
        workers=2,
        # The count read afresh: what the restarted server shows is the database's.
        COUNT_REFRESH_SECONDS="0",
        COUNT_CACHE_SECONDS="0",
        METRICS_TOKEN=METRICS_TOKEN,
    )


def descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        for child, _ in _children(todo.pop()):
            found.append(child)
            todo.append(child)
    return found


def public_count(base: str, petition: Petition) -> int:
    with urllib.request.urlopen(f"{base}/sign/{petition.slug}.json", timeout=5) as response:
        return int(json.loads(response.read())["signature_count"])


def accepted_signatures(base: str) -> float:
    request = urllib.request.Request(
        f"{base}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read().decode()
    [line] = [x for x in text.splitlines() if x.startswith("groundswell_signatures_accepted_total")]
    return float(line.split()[-1])


@pytest.mark.slow
@pytest.mark.alone
@pytest.mark.django_db(transaction=True)
def test_every_acknowledged_signature_survives_kill_9_of_the_web_server(
    petition: Petition,
) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="gs-k-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(data_dir, port)
    restarted = None
    try:
        wait_until_ready(base)
        stop = threading.Event()
        signers = [Signer(base, petition, n, stop) for n in range(SIGNERS)]
        for signer in signers:
            signer.start()
        deadline = time.monotonic() + LOAD_SECONDS
        while time.monotonic() < deadline:
            if sum(len(s.acknowledged) for s in signers) >= BEFORE_KILL:
                break
            time.sleep(0.05)

        # Everything at once, as when the machine's kernel kills the lot.
        victims = [server.pid, *descendants(server.pid)]
        for pid in victims:
            os.kill(pid, signal.SIGKILL)
        stop.set()
        for signer in signers:
            signer.join(30)
        server.wait(10)
        wait_until(lambda: not any(_alive(pid) for pid in victims), 15, "the server to be gone")

        acknowledged = {email for s in signers for email in s.acknowledged}
        tried = {email for s in signers for email in s.tried}
        assert len(acknowledged) >= 20, "too little load before the kill to prove anything"
        assert all(status == 303 for s in signers for status in s.other), "no errors under load"
        written = set(
            Signature.objects.filter(petition=petition).values_list("person__email", flat=True)
        )
        print(
            f"{len(acknowledged)} acknowledged, {len(tried - acknowledged)} without an answer,"
            f" {len(written)} written"
        )
        # Every acknowledged signature is there; nothing that was never sent is.
        assert acknowledged <= written
        assert written <= tried

        restarted = start_server(data_dir, port)
        wait_until_ready(base, what="the restarted server to be ready")
        # Half a second of signing on the restarted server.
        again = Signer(base, petition, 99, threading.Event())
        threading.Timer(0.5, again.stop.set).start()
        again.start()
        again.join(30)
        assert again.acknowledged, "the restarted server takes signatures"
        total = Signature.objects.filter(petition=petition).count()
        assert total == len(written) + len(set(again.acknowledged))
        wait_until(lambda: public_count(base, petition) == total, 10, "the exact count")
        # The counters of every process, the killed ones' included, add up: each
        # acknowledged signature was counted, and nothing that was not written.
        accepted = accepted_signatures(base)
        assert len(acknowledged) + len(again.acknowledged) <= accepted <= total
    finally:
        for process in (server, restarted):
            if process is not None and process.poll() is None:
                stop_serve(process)
        shutil.rmtree(data_dir, ignore_errors=True)
