"""The machine's signature writer (petitions/writer_service.py): server processes hand
it their signatures over a Unix socket; it writes what is waiting together."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from groundswell.petitions import writer_service
from groundswell.petitions.actions.signing import SignatureDetails, SignResult, prepare_signature
from groundswell.petitions.models import Petition, PetitionStatus, Signature
from groundswell.petitions.writer import process_writer, write_together
from groundswell.petitions.writer_service import WriterService, socket_path
from tests.conftest import free_port
from tests.mailings.processes import database_url
from tests.petitions.conftest import sign_data
from tests.petitions.test_concurrent_signing import run_at_once
from tests.petitions.test_signing_together import signer
from tests.serving import start_serve, stop_serve, wait_until_ready
from tests.waiting import wait_until


@pytest.fixture
def short_data_dir(settings: Any) -> Iterator[Path]:
    # A Unix socket's path must stay under about 100 characters.
    path = Path(tempfile.mkdtemp(prefix="gs-w-"))
    settings.DATA_DIR = path
    yield path
    shutil.rmtree(path, ignore_errors=True)


class Running:
    """A WriterService on a thread of this process: the same code the
    `signature_writer` command runs, with its own database connection."""

    def __init__(self) -> None:
        self.service = WriterService(socket_path())
        self.thread = threading.Thread(target=self._run)
        self.thread.start()
        assert self.service.ready.wait(10)

    def _run(self) -> None:
        try:
            self.service.run()
        finally:
            connection.close()

    def stop(self) -> None:
        self.service.stop.set()
        self.thread.join(10)


@pytest.fixture
def running(short_data_dir: Path) -> Iterator[Running]:
    service = Running()
    yield service
    service.stop()


def sign_together(petition: Petition, details: SignatureDetails) -> SignResult:
    """As the sign view does: the signature goes to the writer."""
    return write_together(prepare_signature(petition, details, ip_address="192.0.2.7"))


def sign(petition: Petition, i: int | str) -> object:
    return sign_together(petition, signer(i))


@pytest.mark.django_db(transaction=True)
class TestWriterService:
    def test_it_writes_what_many_request_threads_hand_it_and_answers_each(
        self, petition: Petition, running: Running
    ) -> None:
        in_process_before = process_writer().batches

        results = run_at_once(20, lambda i: sign(petition, i))

        assert [getattr(r, "already_signed", r) for r in results] == [False] * 20
        signatures = Signature.objects.filter(petition=petition).select_related("person")
        assert sorted(s.person.email for s in signatures) == sorted(
            f"signer{i}@example.org" for i in range(20)
        )
        # Each answer names its own signer, for the referral code.
        people = {s.person.pk for s in signatures}
        assert {getattr(r, "person_id", None) for r in results} == people
        assert 1 <= running.service.batches <= 20
        assert process_writer().batches == in_process_before

    def test_it_says_already_signed_for_a_repeat_and_writes_nothing(
        self, petition: Petition, running: Running
    ) -> None:
        first = sign_together(petition, signer(1))
        again = sign_together(petition, signer(1, email=" SIGNER1@Example.org "))

        assert not first.already_signed and first.person_id is not None
        assert again.already_signed and again.person_id is None
        assert Signature.objects.filter(petition=petition).count() == 1
        assert running.service.batches == 2

    def test_it_writes_nothing_for_a_petition_closed_since_the_page_was_read(
        self, petition: Petition, running: Running
    ) -> None:
        Petition.objects.filter(pk=petition.pk).update(status=PetitionStatus.CLOSED)

        result = sign_together(petition, signer(1))

        assert result.not_open and result.signature is None
        assert not Signature.objects.exists()

    def test_it_is_not_needed_signatures_are_written_in_process_without_it(
        self, petition: Petition, short_data_dir: Path
    ) -> None:
        before = process_writer().batches

        result = sign(petition, 1)

        assert not getattr(result, "already_signed", True)
        assert Signature.objects.count() == 1
        assert process_writer().batches == before + 1

    def test_a_signature_is_still_written_when_the_writer_stops_between_two(
        self, petition: Petition, short_data_dir: Path
    ) -> None:
        service = Running()
        sign(petition, 1)  # this thread now holds a connection to it
        service.stop()

        sign(petition, 2)

        assert Signature.objects.count() == 2
        assert service.service.batches == 1

    def test_a_writer_started_after_one_was_missed_is_used_at_once(
        self, petition: Petition, short_data_dir: Path
    ) -> None:
        sign(petition, 1)  # no writer: this process will not look for one for a while
        service = Running()
        try:
            sign(petition, 2)
        finally:
            service.stop()

        assert service.service.batches == 1

    def test_it_answers_an_unreadable_message_with_an_error_and_goes_on(
        self, petition: Petition, running: Running
    ) -> None:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(10)
            sock.connect(str(socket_path()))
            body = b'{"petition": "not a list"}'
            sock.sendall(len(body).to_bytes(4, "big") + body)
            # The answer comes framed as the request went: its length, then JSON.
            size = int.from_bytes(sock.recv(4), "big")
            answer = json.loads(receive_exactly(sock, size))

        assert "error" in answer
        assert not getattr(sign(petition, 1), "already_signed", True)
        assert Signature.objects.count() == 1

    def test_a_second_writer_for_the_same_data_directory_stands_aside(
        self, running: Running
    ) -> None:
        second = WriterService(socket_path())

        assert second.run() == writer_service.ANOTHER_IS_RUNNING
        assert socket_path().exists()  # the first one's socket is left alone

    def test_its_socket_is_for_its_own_user_only(self, running: Running) -> None:
        assert socket_path().stat().st_mode & 0o777 == 0o600


# --- Through `groundswell serve` ----------------------------------------------------


def _post_signature(base: str, petition: Petition, i: int) -> int:
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirects())
    page = opener.open(f"{base}/sign/{petition.slug}/", timeout=30).read().decode()
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert match is not None
    data = sign_data(petition, email=f"served{i}@example.org")
    data["csrfmiddlewaretoken"] = match.group(1)
    request = urllib.request.Request(
        f"{base}/sign/{petition.slug}/",
        data=urllib.parse.urlencode(data).encode(),
        headers={"Referer": f"{base}/sign/{petition.slug}/"},
    )
    try:
        return int(opener.open(request, timeout=30).status)
    except urllib.error.HTTPError as error:
        return error.code


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def _children(pid: int) -> list[tuple[int, str]]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append((int(entry.name), command))
    return found


def _writer_pid(serve: subprocess.Popen[str]) -> int | None:
    """The writer: the child of serve's writer supervisor (`signature_writer --supervise`)."""
    for pid, command in _children(serve.pid):
        if "--supervise" in command:
            writers = [p for p, c in _children(pid) if "signature_writer" in c]
            return writers[0] if writers else None
    return None


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_serve_runs_one_writer_that_every_worker_hands_signatures_to(
    petition: Petition,
) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="gs-s-"))
    port = free_port()
    serve = start_serve(
        port,
        data_dir=data_dir,
        database_url=database_url(),
        workers=2,
        LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )
    base = f"http://127.0.0.1:{port}"
    sock = data_dir / "run" / "signature-writer.sock"
    try:
        wait_until(lambda: sock.exists(), 60, "the signature writer's socket")
        wait_until_ready(base)
        first_writer = _writer_pid(serve)
        assert first_writer is not None
        # On PostgreSQL in a session of its own: one peer of the web server for the
        # CPU, not one thread among its request threads (serve.py says why not SQLite).
        own_session = os.getsid(first_writer) != os.getsid(serve.pid)
        assert own_session == (connection.vendor == "postgresql")

        statuses = run_at_once(12, lambda i: _post_signature(base, petition, i))

        assert statuses == [303] * 12
        assert Signature.objects.filter(petition=petition).count() == 12

        # Killed, it is started again; meanwhile the workers write for themselves.
        os.kill(first_writer, signal.SIGKILL)
        assert _post_signature(base, petition, 100) == 303
        try:
            wait_until(
                lambda: _writer_pid(serve) not in (None, first_writer) and _accepts(sock),
                30,
                "a new signature writer",
            )
        except AssertionError:
            # For the record: what the server's children were doing.
            print("killed", first_writer, "socket", sock.exists(), "children", _children(serve.pid))
            raise
        statuses = run_at_once(4, lambda i: _post_signature(base, petition, 200 + i))
        assert statuses == [303] * 4
        assert Signature.objects.filter(petition=petition).count() == 17
        helpers = [pid for pid, _ in _children(serve.pid)]
        helpers += [pid for parent in helpers for pid, _ in _children(parent)]
    finally:
        output = stop_serve(serve)
        shutil.rmtree(data_dir, ignore_errors=True)
    # The writer reports what it wrote when it stops: the last four went through it.
    written = [json.loads(m) for m in re.findall(r"signature writer stopped: (\{.*\})", output)]
    assert written and written[-1]["signatures"] == 4, output
    # Supervisor, writer and workers go with the server.
    wait_until(lambda: not any(_alive(pid) for pid in helpers), 15, "the server's children to stop")


def _accepts(path: Path) -> bool:
    """Whether a writer listens on the socket (the file appears a moment before)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def receive_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        assert chunk, "the signature writer closed the connection"
        data += chunk
    return data
