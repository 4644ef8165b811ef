"""The server processes' side of the machine's signature writer (writer_service.py): hand
it a signature over its socket and wait for the answer, or say there is no writer to be
reached so that the caller writes the signature itself."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
from datetime import datetime
from typing import Any

from groundswell.petitions.actions.signing import PendingSignature, SignResult
from groundswell.petitions.defences import OverLimit
from groundswell.petitions.writer_service import HEADER, MAX_MESSAGE, frame, socket_path

# How long a request waits for its answer before writing the signature itself. The
# writer's transaction is bounded well inside this by the database's own timeouts.
ANSWER_TIMEOUT = 60.0
# After failing to reach the writer, a process tries again only after this long (or at
# once when a writer has started since: its socket is a new file).
RETRY_AFTER = 2.0


class SigningUnavailable(Exception):
    """The database cannot take signatures now (lib/db.py DATABASE_AWAY). Nothing was
    written; or, where the commit's answer itself was lost, the signature is there and
    signing again finds it signed."""


class _Connections(threading.local):
    sock: socket.socket | None = None
    pid: int = 0


_local = _Connections()
_unreachable_until = 0.0
# The socket file as it was when the writer could not be reached: a writer started
# since makes a new one, and is tried at once rather than after the pause.
_unreachable_socket: tuple[int, int] | None = None


def _socket_file() -> tuple[int, int] | None:
    try:
        found = os.stat(socket_path())
    except OSError:
        return None
    return found.st_ino, found.st_mtime_ns


def _mark_unreachable() -> None:
    global _unreachable_until, _unreachable_socket
    _unreachable_until = time.monotonic() + RETRY_AFTER
    _unreachable_socket = _socket_file()


def write_via_service(pending: PendingSignature) -> SignResult | None:
    """Have the machine's signature writer write this signature; its result once
    committed, or None when there is no writer to be reached or it could not write
    it (the caller then writes it itself). SigningUnavailable when the writer found
    the database away."""
    if time.monotonic() < _unreachable_until and _socket_file() == _unreachable_socket:
        return None
    message = frame(pending.to_wire())
    for _attempt in range(2):
        try:
            sock, fresh = _connection()
            if sock is None:
                _mark_unreachable()
                return None
            sock.sendall(message)
            answer = _receive(sock)
            break
        except (OSError, ValueError):
            _close()
            # A connection kept from before may be to a writer since restarted: try
            # once on a new one. (Had the old one written the signature before it
            # went, the new one says it was already signed: nothing is written twice.)
            if fresh:
                _mark_unreachable()
                return None
    else:
        return None
    if answer.get("error") == "unavailable":
        # Another attempt here would wait out the same timeout again.
        raise SigningUnavailable("the signature writer could not reach the database")
    if "error" in answer:
        return None
    return SignResult(
        already_signed=bool(answer["already_signed"]),
        not_open=bool(answer["not_open"]),
        member_not_ready=bool(answer.get("member_not_ready", False)),
        person_id=None if answer["person"] is None else int(answer["person"]),
        signer_id=None if answer.get("signer") is None else int(answer["signer"]),
        over_limit=_over_limit_from_wire(answer.get("over")),
    )


def _over_limit_from_wire(value: Any) -> OverLimit | None:
    if value is None:
        return None
    key, retry_at = value
    return OverLimit(str(key), datetime.fromisoformat(str(retry_at)))


def _connection() -> tuple[socket.socket | None, bool]:
    """This thread's connection to the writer, and whether it is new."""
    if _local.sock is not None and _local.pid == os.getpid():
        return _local.sock, False
    path = socket_path()
    if not path.exists():
        return None, True
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(ANSWER_TIMEOUT)
    try:
        sock.connect(str(path))
    except OSError:
        sock.close()
        return None, True
    _local.sock, _local.pid = sock, os.getpid()
    return sock, True


def _receive(sock: socket.socket) -> dict[str, Any]:
    header = _receive_exactly(sock, HEADER.size)
    (size,) = HEADER.unpack(header)
    if size > MAX_MESSAGE:
        raise ValueError(f"answer of {size} bytes")
    answer = json.loads(_receive_exactly(sock, size))
    if not isinstance(answer, dict):
        raise ValueError("answer is not an object")
    return answer


def _receive_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionResetError("the signature writer closed the connection")
        data += chunk
    return data


def _close() -> None:
    if _local.sock is not None:
        with contextlib.suppress(OSError):
            _local.sock.close()
    _local.sock = None
