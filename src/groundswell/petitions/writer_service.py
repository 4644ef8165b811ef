"""One signature writer per machine: a process every server process hands signatures to.

Group commit inside each server process (writer.py) has two limits on a machine with
few cores. The writer thread shares its process's interpreter lock with the request
threads, so a batch holds the database's write lock for several times the CPU it needs
while it waits for its turn to run; and each process writes its own batches, which
take turns on SQLite's single write lock, so a batch holds only that process's waiting
signatures. `groundswell serve` therefore starts one more process, the signature
writer (`groundswell signature_writer`), listening on a Unix socket in the data
directory. A sign request sends it the signature, worked out as far as it can be
without the database (prepare_signature in actions/signing.py), and waits for the
answer. The writer reads every signature waiting on any connection, writes them in one
transaction (do_sign_petitions), and answers each after the commit: nothing is
acknowledged before it is durable.

When there is no writer (no `serve`, as under tests or runserver; it died; it is being
restarted) or it fails, the request falls back to its own process's writer thread, so
a signature is never refused for want of it. Should the writer commit a signature and
die before answering, the fallback finds the person already signed and the thank-you
page says so: nothing is written twice.

Each connection carries one request at a time: a 4-byte length, then JSON (the
socket is the user's own, in the data directory, mode 0600). This module is the writer's
side; writer_client.py is the server processes' side.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import selectors
import socket
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection

from groundswell.lib.db import DATABASE_AWAY, bind_on_server, check_connection_after_idle
from groundswell.lib.summaries import BatchSummary
from groundswell.lib.turns import writers_take_turns
from groundswell.petitions.actions.signing import PendingSignature, SignResult, do_sign_petitions

logger = logging.getLogger(__name__)

# At most this many signatures per transaction; more wait for the next one.
MAX_BATCH = 200
# The exit status of a writer that found another one already running here.
ANOTHER_IS_RUNNING = 3

HEADER = struct.Struct("!I")
# A signature's JSON is well under 8 KiB; anything larger is not ours.
MAX_MESSAGE = 256 * 1024


def socket_path() -> Path:
    return Path(settings.DATA_DIR) / "run" / "signature-writer.sock"


def wait_until_listening(timeout: float) -> bool:
    """Whether a writer accepts connections here within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            try:
                probe.connect(str(socket_path()))
                return True
            except OSError:
                pass
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def frame(payload: dict[str, Any]) -> bytes:
    body = json.dumps(payload, separators=(",", ":")).encode()
    return HEADER.pack(len(body)) + body


class _Reader:
    """Bytes received on one connection, split into messages."""

    __slots__ = ("buffer", "sock")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = bytearray()

    def messages(self) -> list[bytes]:
        found = []
        while len(self.buffer) >= HEADER.size:
            (size,) = HEADER.unpack_from(self.buffer)
            if size > MAX_MESSAGE:
                raise ValueError(f"message of {size} bytes")
            if len(self.buffer) < HEADER.size + size:
                break
            found.append(bytes(self.buffer[HEADER.size : HEADER.size + size]))
            del self.buffer[: HEADER.size + size]
        return found


@contextlib.contextmanager
def _only_writer(path: Path) -> Iterator[bool]:
    """True while this process holds the writer's lock for this data directory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


class WriterService:
    """The writer's loop: accept connections, gather what is waiting, write it together."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.stop = threading.Event()
        self.ready = threading.Event()
        # Transactions committed and signatures written in them: for tests, and
        # logged when it stops.
        self.batches = 0
        self.signatures = 0
        self._idle_since = 0.0  # when the last batch ended (monotonic)
        self.summary = BatchSummary(logger, "signature writer")

    def run(self, *, parent_pid: int | None = None) -> int:
        """Serve until stop is set (or the parent process is gone); the exit status."""
        with _only_writer(self.path) as only:
            if not only:
                logger.warning("Another signature writer is running for %s.", self.path)
                return ANOTHER_IS_RUNNING
            bind_on_server()
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                # Owner only: whoever can write here could sign as anyone.
                old_mask = os.umask(0o177)
                try:
                    listener.bind(str(self.path))
                finally:
                    os.umask(old_mask)
                listener.listen(1024)
                listener.setblocking(False)
                self._serve(listener, parent_pid)
            finally:
                self.summary.log_if_due(force=True)
                logger.info(
                    "signature writer stopped: %s",
                    json.dumps({"signatures": self.signatures, "transactions": self.batches}),
                )
                listener.close()
                with contextlib.suppress(FileNotFoundError):
                    self.path.unlink()
                connection.close()
        return 0

    def _serve(self, listener: socket.socket, parent_pid: int | None) -> None:
        selector = selectors.DefaultSelector()
        selector.register(listener, selectors.EVENT_READ)
        readers: dict[socket.socket, _Reader] = {}
        self.ready.set()
        try:
            self._loop(listener, selector, readers, parent_pid)
        finally:
            # Whoever is still waiting sees the connection close and writes for itself.
            for sock in list(readers):
                self._drop(sock, selector, readers)
            selector.close()

    def _loop(
        self,
        listener: socket.socket,
        selector: selectors.BaseSelector,
        readers: dict[socket.socket, _Reader],
        parent_pid: int | None,
    ) -> None:
        idle_since = time.monotonic()
        while not self.stop.is_set():
            events = selector.select(timeout=1.0)
            if parent_pid is not None and os.getppid() != parent_pid:
                logger.warning("The server that started the signature writer is gone.")
                return
            waiting: list[tuple[socket.socket, bytes]] = []
            for key, _ in events:
                if key.fileobj is listener:
                    self._accept(listener, selector, readers)
                    continue
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                reader = readers[sock]
                try:
                    data = sock.recv(65536)
                    if not data:
                        raise ConnectionResetError("closed")
                    reader.buffer += data
                    waiting.extend((sock, message) for message in reader.messages())
                except (OSError, ValueError):
                    self._drop(sock, selector, readers)
            self.summary.log_if_due()
            if waiting:
                for start in range(0, len(waiting), MAX_BATCH):
                    self._write(waiting[start : start + MAX_BATCH], selector, readers)
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since > 30:
                # Like the in-process writer: no connection held open while idle.
                connection.close()
                idle_since = time.monotonic()

    @staticmethod
    def _accept(
        listener: socket.socket,
        selector: selectors.BaseSelector,
        readers: dict[socket.socket, _Reader],
    ) -> None:
        with contextlib.suppress(BlockingIOError):
            while True:
                sock, _ = listener.accept()
                sock.setblocking(False)
                readers[sock] = _Reader(sock)
                selector.register(sock, selectors.EVENT_READ)

    @staticmethod
    def _drop(
        sock: socket.socket,
        selector: selectors.BaseSelector,
        readers: dict[socket.socket, _Reader],
    ) -> None:
        with contextlib.suppress(KeyError, ValueError):
            selector.unregister(sock)
        readers.pop(sock, None)
        sock.close()

    def _write(
        self,
        waiting: list[tuple[socket.socket, bytes]],
        selector: selectors.BaseSelector,
        readers: dict[socket.socket, _Reader],
    ) -> None:
        answers: dict[int, dict[str, Any]] = {}
        pending: list[tuple[int, PendingSignature]] = []
        for i, (_, message) in enumerate(waiting):
            try:
                pending.append((i, PendingSignature.from_wire(json.loads(message))))
            except (ValueError, KeyError, TypeError) as error:
                # The sender writes it itself: one bad message cannot fail the others.
                answers[i] = {"error": f"unreadable: {error}"}
        if pending:
            started = time.monotonic()
            try:
                check_connection_after_idle(self._idle_since)
                with writers_take_turns():
                    results = do_sign_petitions([p for _, p in pending])
            except DATABASE_AWAY:
                self.summary.failed(len(pending))
                # Each sender tells its signer to try again shortly (a 503 with the
                # form kept); writing alone would wait out the same timeout again.
                logger.warning(
                    "The database is unavailable: %s signatures not written.", len(pending)
                )
                close_old_connections()
                answers.update((i, {"error": "unavailable"}) for i, _ in pending)
            except Exception:
                logger.exception(
                    "Writing %s signatures together failed; each is written alone.",
                    len(pending),
                )
                close_old_connections()
                self.summary.failed(len(pending))
                answers.update((i, {"error": "not written"}) for i, _ in pending)
            else:
                self.summary.add(len(pending), time.monotonic() - started)
                self.batches += 1
                self.signatures += sum(r.person_id is not None for r in results)
                answers.update(
                    (i, _result_to_wire(result))
                    for (i, _), result in zip(pending, results, strict=True)
                )
            self._idle_since = time.monotonic()
        for i, (sock, _) in enumerate(waiting):
            answer = frame(answers[i])
            try:
                # A few dozen bytes to a reader that is waiting for them: the socket's
                # buffer has room. Should it not, the reader sees the connection close
                # and writes the signature itself (finding it signed, if it was).
                if sock.send(answer) != len(answer):
                    raise BlockingIOError("answer cut short")
            except OSError:
                self._drop(sock, selector, readers)


def _result_to_wire(result: SignResult) -> dict[str, Any]:
    return {
        "already_signed": result.already_signed,
        "not_open": result.not_open,
        "member_not_ready": result.member_not_ready,
        "person": result.person_id,
        "signer": result.signer_id,
        "over": (
            None
            if result.over_limit is None
            else [result.over_limit.key, result.over_limit.retry_at.isoformat()]
        ),
    }
