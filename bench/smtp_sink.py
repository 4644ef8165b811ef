"""A minimal SMTP server on asyncio that accepts every message and discards it.

    python bench/smtp_sink.py PORT [--log FILE]

With --log, each accepted message's recipients are appended to FILE (one address a
line) and flushed *before* the 250 reply goes out: whatever a client saw accepted is
in the file. Used by bench/mail.py and by the crash-safety tests. Speaks just enough
SMTP for smtplib: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT, and PIPELINING
(commands are read from one stream in order, so pipelined ones just work).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
from typing import IO


class Sink:
    def __init__(self, log: IO[str] | None) -> None:
        self.log = log
        self.messages = 0

    async def session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 sink ESMTP ready\r\n")
        rcpts: list[str] = []
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                verb = line[:4].upper()
                if verb in (b"EHLO", b"HELO"):
                    writer.write(
                        b"250-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 52428800\r\n"
                    )
                elif verb == b"MAIL":
                    rcpts = []
                    writer.write(b"250 OK\r\n")
                elif verb == b"RCPT":
                    address = line.split(b":", 1)[1].strip().split(b" ")[0].strip(b"<>")
                    rcpts.append(address.decode(errors="replace"))
                    writer.write(b"250 OK\r\n")
                elif verb == b"DATA":
                    writer.write(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    await writer.drain()
                    while True:
                        chunk = await reader.readuntil(b"\r\n")
                        if chunk == b".\r\n":
                            break
                    if self.log is not None:
                        self.log.write("".join(f"{r}\n" for r in rcpts))
                        self.log.flush()
                    self.messages += 1
                    rcpts = []
                    writer.write(b"250 OK queued\r\n")
                elif verb == b"RSET":
                    rcpts = []
                    writer.write(b"250 OK\r\n")
                elif verb == b"NOOP":
                    writer.write(b"250 OK\r\n")
                elif verb == b"QUIT":
                    writer.write(b"221 Bye\r\n")
                    await writer.drain()
                    break
                else:
                    writer.write(b"502 Command not implemented\r\n")
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()


async def serve(port: int, log_path: str | None) -> None:
    log = open(log_path, "a", encoding="utf-8") if log_path else None  # noqa: SIM115
    sink = Sink(log)
    server = await asyncio.start_server(sink.session, "127.0.0.1", port, limit=1 << 20)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
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
