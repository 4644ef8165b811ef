"""A minimal SMTP server on asyncio that accepts every message and discards it.

    python bench/smtp_sink.py PORT [--log FILE]

With --log, each accepted message's recipients are appended to FILE (one address a
line) and flushed *before* the 250 reply goes out: whatever a client saw accepted is
in the file. Used by bench/mail.py and by the crash-safety tests. Speaks just enough
SMTP for smtplib and the send loop: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT,
and PIPELINING (RFC 2920).

It is an asyncio Protocol rather than streams so that it costs the bench as little CPU
as it can: each chunk the client writes is parsed whole (every pipelined command, a
message body found with one search for the final dot, not line by line) and all the
replies it calls for go back in one write.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
from typing import IO

EHLO_REPLY = b"250-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 52428800\r\n"


class Sink:
    def __init__(self, log: IO[str] | None) -> None:
        self.log = log
        self.messages = 0

    def accepted(self, recipients: list[str]) -> None:
        if self.log is not None:
            self.log.write("".join(f"{r}\n" for r in recipients))
            self.log.flush()
        self.messages += 1


class Session(asyncio.Protocol):
    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.in_data = False
        # Where the search for the end of a message body carries on from.
        self.searched = 0
        self.recipients: list[str] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(b"220 sink ESMTP ready\r\n")

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        self.buffer += data
        replies: list[bytes] = []
        closing = False
        while not closing:
            if self.in_data:
                if not self._end_of_body():
                    break
                self.sink.accepted(self.recipients)
                self.recipients = []
                replies.append(b"250 OK queued\r\n")
                continue
            end = self.buffer.find(b"\r\n")
            if end < 0:
                break
            line = bytes(self.buffer[:end])
            del self.buffer[: end + 2]
            reply, closing = self._command(line)
            replies.append(reply)
        if replies:
            self.transport.write(b"".join(replies))
        if closing:
            self.transport.close()

    def _end_of_body(self) -> bool:
        """Drop the message body from the buffer once it is all there."""
        if self.buffer.startswith(b".\r\n"):
            end = 3
        else:
            found = self.buffer.find(b"\r\n.\r\n", self.searched)
            if found < 0:
                self.searched = max(0, len(self.buffer) - 4)
                return False
            end = found + 5
        del self.buffer[:end]
        self.in_data = False
        self.searched = 0
        return True

    def _command(self, line: bytes) -> tuple[bytes, bool]:
        verb = line[:4].upper()
        if verb in (b"EHLO", b"HELO"):
            return EHLO_REPLY, False
        if verb == b"MAIL":
            self.recipients = []
            return b"250 OK\r\n", False
        if verb == b"RCPT":
            address = line.split(b":", 1)[1].strip().split(b" ")[0].strip(b"<>")
            self.recipients.append(address.decode(errors="replace"))
            return b"250 OK\r\n", False
        if verb == b"DATA":
            self.in_data = True
            return b"354 End data with <CR><LF>.<CR><LF>\r\n", False
        if verb == b"RSET":
            self.recipients = []
            return b"250 OK\r\n", False
        if verb == b"NOOP":
            return b"250 OK\r\n", False
        if verb == b"QUIT":
            return b"221 Bye\r\n", True
        return b"502 Command not implemented\r\n", False


async def serve(port: int, log_path: str | None) -> None:
    log = open(log_path, "a", encoding="utf-8") if log_path else None  # noqa: SIM115
    sink = Sink(log)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Session(sink), "127.0.0.1", port)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"listening {port} pid {os.getpid()}", flush=True)
    async with server:
        await stop.wait()
    if log is not None:
        log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("port", type=int)
    parser.add_argument("--log", help="append each accepted message's recipients here")
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.log))


if __name__ == "__main__":
    main()
