"""Making sure a stop signal reaches the thread that can act on it.

Python runs a signal's handler only in the main thread, and only once that thread
runs Python again. The kernel, though, delivers a signal sent to a process to any of
its threads that does not block it. A web worker of `groundswell serve` (granian)
waits for its stop in the main thread on a lock with no timeout, while its server,
request, writer and flusher threads do the work; when SIGINT or SIGTERM landed on
one of those, the handler was noted but never ran, and the worker kept running
until killed (as did the server, which waits for its workers).

A granian worker must also see its stop signal only once: its handler's second call
(Ctrl-C reaches every process of the terminal's group, then the server sends each
worker SIGTERM as well) blocks for good inside granian, and the worker with it.
That was the worker found still running a minute after Ctrl-C.
granian_workers_stop_once() makes every call after the first do nothing.

forward_stop_signals() closes the first gap: Python's own low-level handler writes every
signal's number to a wake-up socket, whichever thread took it; a small thread
reading that socket sends each stop signal once more, to the main thread itself,
which wakes and runs the handler. A second run of a stop handler is harmless (it
sets an event already set).
"""

from __future__ import annotations

import os
import signal
import socket
import threading

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)

_installed_in: int | None = None


def forward_stop_signals() -> bool:
    """In this process, have SIGINT and SIGTERM reach the main thread whichever
    thread the kernel gave them to. Call from the main thread; True once installed.
    Does nothing where a wake-up fd is in use already (an asyncio loop's)."""
    global _installed_in
    if _installed_in == os.getpid():
        return True
    if threading.current_thread() is not threading.main_thread():
        return False
    reader, writer = socket.socketpair()
    reader.setblocking(True)
    writer.setblocking(False)
    previous = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    if previous != -1:
        signal.set_wakeup_fd(previous)
        reader.close()
        writer.close()
        return False
    _installed_in = os.getpid()
    main = threading.main_thread().ident
    assert main is not None
    thread = threading.Thread(
        target=_forward, args=(reader, writer, main), name="stop-signals", daemon=True
    )
    thread.start()
    return True


def _forward(reader: socket.socket, writer: socket.socket, main: int) -> None:
    # Each stop signal is sent on once: the copy sent to the main thread comes back
    # through the socket too, and must not be sent again.
    forwarded: set[int] = set()
    while True:
        try:
            data = reader.recv(64)
        except OSError:
            return
        if not data:
            return
        for number in data:
            if number in STOP_SIGNALS and number not in forwarded:
                forwarded.add(number)
                signal.pthread_kill(main, number)


def _forget_after_fork() -> None:
    """A forked child has the parent's wake-up socket but not its forwarding thread:
    its signals would wake the parent. It installs its own if it wants one."""
    global _installed_in
    if _installed_in is not None and _installed_in != os.getpid():
        _installed_in = None
        signal.set_wakeup_fd(-1)


os.register_at_fork(after_in_child=_forget_after_fork)


def granian_workers_stop_once() -> None:
    """In a granian worker, before granian sets its signal handlers (the worker loads
    the application first): handlers that pass on only the first stop signal.

    Replaces granian's own set_sync_signals (granian/_signals.py, 2.x), which the
    worker looks up after loading the application, with the same handler behind a
    once-only test."""
    from granian import _signals
    from granian._granian import WorkerSignal

    def set_sync_signals() -> WorkerSignal:
        event = WorkerSignal()
        fired = threading.Event()

        def handler(signum: int, frame: object) -> None:
            if not fired.is_set():
                fired.set()
                event.set()

        _signals.set_main_signals(handler)
        return event

    _signals.set_sync_signals = set_sync_signals


# --- Task workers ------------------------------------------------------------------
# django-tasks-db's worker, asked to stop, waits for the task it runs to end: a send
# lane's whole time slice, a batch of emails. `groundswell worker` (taskworker.py) sets
# this as well, and long tasks look at it between messages and hand the rest back.
_tasks_stop = threading.Event()


def ask_tasks_to_stop() -> None:
    _tasks_stop.set()


def tasks_should_stop() -> bool:
    """Whether this process's task worker has been asked to stop: a long task ends at
    its next safe point and leaves the rest to another worker."""
    return _tasks_stop.is_set()


class TaskStopped(Exception):
    """Raised inside a task at a safe point when its worker is stopping; the task undoes
    or hands back what it has not finished."""
