"""A send lane's journal: what it handed to the mail server, before the database knows.

A lane marks a whole window of recipients *sending* in one commit and records the
server's answers in bulk (lanes.py), so after a kill -9 the database alone cannot tell
which of a window's recipients went. The journal can. Before a message's body goes to
the server the lane appends ``S <id>``; once the server has answered, ``A <id> …`` with
that answer. Each line is one ``os.write`` on a file opened with ``O_APPEND``: when the
call returns, the line is in the kernel's page cache and outlives the process however it
dies. It does not outlive the machine (no fsync: one per message would cost more than the
commits it replaces), so the first line names the boot it was written in and a journal
from an earlier boot is not trusted.

The lane holds an exclusive ``flock`` on its journal for as long as it runs, and the
kernel drops that lock when the process ends, kill -9 included. Recovery on the same host
takes the lock before it reads: if it cannot, the lane is alive whatever its heartbeat
says; once it has, the dead lane cannot write another line.

Files live in ``DATA_DIR/send-journal/``, one per lane, named after the lane's worker id.
A lane removes its own when it stops; recovery removes a dead lane's once its answers are
in the database.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import quote, unquote

from django.conf import settings

SUFFIX = ".journal"
# A journal being created: locked, then renamed to its final name, so any file a
# recoverer finds under a final name is already locked by its lane.
NEW_SUFFIX = ".new"
NEW_GRACE_SECONDS = 60
FORMAT = "groundswell-send-journal 1"
# Past this size the lane empties its journal at its next checkpoint (after a commit that
# recorded every answer so far), so a long `mailing send --now` does not grow it forever.
CHECKPOINT_BYTES = 1 << 20

LIVE: Literal["live"] = "live"
MISSING: Literal["missing"] = "missing"


def directory() -> Path:
    return Path(settings.DATA_DIR) / "send-journal"


def path_for(worker_id: str) -> Path:
    return directory() / (quote(worker_id, safe="") + SUFFIX)


def boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def _field(text: str) -> str:
    return text.replace("\t", " ").replace("\r", " ").replace("\n", " ")


class _HeldJournal:
    """A journal file this process holds open and locked."""

    path: Path
    fd: int

    def remove(self) -> None:
        """Every answer in it is in the database: remove it, then let go."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        self.close()

    def close(self) -> None:
        """Let go (and so unlock) without removing: recovery will replay it."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class Journal(_HeldJournal):
    """The running lane's journal, created and locked at once; `remove` once the lane
    stopped with every answer in the database."""

    def __init__(self, worker_id: str) -> None:
        directory().mkdir(parents=True, exist_ok=True)
        self.path = path_for(worker_id)
        new = self.path.with_suffix(NEW_SUFFIX)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_CLOEXEC
        self.fd = os.open(new, flags, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self.header = f"{FORMAT}\t{boot_id()}\t{_field(worker_id)}\n".encode()
        self._write(self.header)
        os.rename(new, self.path)
        self.size = len(self.header)

    def _write(self, line: bytes) -> None:
        if os.write(self.fd, line) != len(line):
            # A short write (disk full): nothing after this line could be trusted.
            raise OSError(f"journal {self.path}: short write")

    def started(self, recipient_id: int) -> None:
        """Written before the message's body leaves for the server."""
        line = b"S %d\n" % recipient_id
        self._write(line)
        self.size += len(line)

    def answered(
        self, recipient_id: int, state: str, response: str, message_id: str, at: float
    ) -> None:
        line = (
            f"A\t{recipient_id}\t{state}\t{at:.6f}\t{_field(message_id)}\t{_field(response)}\n"
        ).encode()
        self._write(line)
        self.size += len(line)

    def checkpoint(self) -> None:
        """Every line so far is in the database: start again from the header if it got big."""
        if self.size > CHECKPOINT_BYTES:
            os.ftruncate(self.fd, len(self.header))
            self.size = len(self.header)


@dataclass(frozen=True)
class Answer:
    state: str  # as smtp.Outcome: sent, failed, retry, unknown
    response: str
    message_id: str
    at: float  # seconds since the epoch


@dataclass
class Replay:
    started: set[int] = field(default_factory=set)
    answers: dict[int, Answer] = field(default_factory=dict)


def parse(data: bytes) -> Replay | None:
    """What a journal says, or None if it cannot be trusted (unreadable, another boot)."""
    lines = data.split(b"\n")
    # The last piece has no newline: a line the lane had not finished writing (or b"").
    # It was never acted on: the lane only sends once write() has returned.
    complete = lines[:-1]
    if not complete:
        return None
    try:
        header = complete[0].decode().split("\t")
        if header[0] != FORMAT or not header[1] or header[1] != boot_id():
            return None
        replay = Replay()
        for raw in complete[1:]:
            line = raw.decode()
            if line.startswith("S "):
                replay.started.add(int(line[2:]))
            elif line.startswith("A\t"):
                _, pk, state, at, message_id, response = line.split("\t", 5)
                replay.answers[int(pk)] = Answer(state, response, message_id, float(at))
            else:
                return None
    except (UnicodeDecodeError, ValueError, IndexError):
        return None
    return replay


class DeadJournal(_HeldJournal):
    """A dead lane's journal, locked by us: read it, then `remove` it once replayed."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self.fd = fd

    def replay(self) -> Replay | None:
        try:
            with os.fdopen(os.dup(self.fd), "rb") as file:
                file.seek(0)
                return parse(file.read())
        except OSError:
            return None


def _take_path(path: Path) -> DeadJournal | Literal["live", "missing"]:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return MISSING
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return LIVE
    except OSError:
        os.close(fd)
        raise
    if not path.exists():
        # Another recoverer replayed and removed it between our open and our lock.
        os.close(fd)
        return MISSING
    return DeadJournal(path, fd)


def take(worker_id: str) -> DeadJournal | Literal["live", "missing"]:
    """Lock the worker's journal if its lane is gone; LIVE if the lane still holds it."""
    return _take_path(path_for(worker_id))


def leftovers() -> Iterator[tuple[str, DeadJournal]]:
    """Journals on this host whose lane is gone, as (worker id, locked journal).

    A half-created one (killed between creating and renaming it) is removed here.
    """
    try:
        names = sorted(os.listdir(directory()))
    except FileNotFoundError:
        return
    for name in names:
        path = directory() / name
        if name.endswith(NEW_SUFFIX):
            with contextlib.suppress(FileNotFoundError):
                if time.time() - path.stat().st_mtime < NEW_GRACE_SECONDS:
                    continue  # a lane may be between creating and locking it
            found = _take_path(path)
            if isinstance(found, DeadJournal):
                found.remove()
        elif name.endswith(SUFFIX):
            found = _take_path(path)
            if isinstance(found, DeadJournal):
                yield unquote(name[: -len(SUFFIX)]), found
