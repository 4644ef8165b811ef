"""A small HTTP/1.1 load generator on raw asyncio protocols, for bench/sign.py.

Why not httpx: on this 2-core machine the client shares the CPU with the server,
so every microsecond the client spends per request is taken from the server.
`python bench/sign.py --compare-clients` measures this client against httpx (and
wrk, when installed) on the same constant view; docs/performance.md has the figures.

Only what the benchmark needs: keep-alive connections (reopened when the server
closes them), Content-Length and chunked bodies, Set-Cookie for the CSRF cookie.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode


class HTTPError(Exception):
    """The server answered with something this client cannot read."""


@dataclass
class Response:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes

    def header(self, name: bytes) -> bytes | None:
        for key, value in self.headers:
            if key == name:
                return value
        return None

    def cookies(self) -> dict[str, str]:
        jar = {}
        for key, value in self.headers:
            if key == b"set-cookie":
                pair = value.split(b";", 1)[0]
                cname, _, cvalue = pair.partition(b"=")
                jar[cname.strip().decode()] = cvalue.strip().decode()
        return jar


class _Protocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[None] | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    async def wait_data(self) -> None:
        if self.closed:
            raise ConnectionResetError("server closed the connection")
        self.waiter = asyncio.get_running_loop().create_future()
        await self.waiter
        self.waiter = None


class Connection:
    """One keep-alive connection; reconnects when the server closed it."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.host_header = f"{host}:{port}".encode()
        self.proto: _Protocol | None = None
        self.cookies: dict[str, str] = {}

    async def _connect(self) -> _Protocol:
        loop = asyncio.get_running_loop()
        _, proto = await loop.create_connection(_Protocol, self.host, self.port)
        return proto

    def close(self) -> None:
        if self.proto is not None and self.proto.transport is not None:
            self.proto.transport.close()
        self.proto = None

    def _cookie_header(self) -> bytes:
        if not self.cookies:
            return b""
        jar = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return b"Cookie: " + jar.encode() + b"\r\n"

    def build(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        content_type: bytes = b"",
        forwarded_for: str = "",
    ) -> bytes:
        head = b"%s %s HTTP/1.1\r\nHost: %s\r\n" % (
            method.encode(),
            path.encode(),
            self.host_header,
        )
        head += self._cookie_header()
        if forwarded_for:
            head += b"X-Forwarded-For: " + forwarded_for.encode() + b"\r\n"
        if method != "GET" or body:
            head += b"Content-Length: %d\r\n" % len(body)
        if content_type:
            head += b"Content-Type: " + content_type + b"\r\n"
        return head + b"\r\n" + body

    async def send(self, raw: bytes) -> Response:
        proto = self.proto
        if proto is None or proto.closed:
            proto = self.proto = await self._connect()
        assert proto.transport is not None
        proto.transport.write(raw)
        try:
            response, keep_alive = await _read_response(proto)
        except BaseException:
            self.close()
            raise
        if not keep_alive:
            self.close()
        return response

    async def request(self, method: str, path: str, form: dict[str, str] | None = None) -> Response:
        body = urlencode(form).encode() if form is not None else b""
        ctype = b"application/x-www-form-urlencoded" if form is not None else b""
        response = await self.send(self.build(method, path, body, ctype))
        self.cookies.update(response.cookies())
        return response


async def _read_response(proto: _Protocol) -> tuple[Response, bool]:
    buf = proto.buffer
    while True:
        end = buf.find(b"\r\n\r\n")
        if end >= 0:
            break
        await proto.wait_data()
    lines = bytes(buf[:end]).split(b"\r\n")
    del buf[: end + 4]
    try:
        status = int(lines[0].split(b" ", 2)[1])
    except (IndexError, ValueError):
        raise HTTPError(f"bad status line {lines[0]!r}") from None
    headers = []
    length = -1
    chunked = False
    keep_alive = True
    for line in lines[1:]:
        key, _, value = line.partition(b":")
        key = key.strip().lower()
        value = value.strip()
        headers.append((key, value))
        if key == b"content-length":
            length = int(value)
        elif key == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
        elif key == b"connection" and value.lower() == b"close":
            keep_alive = False
    if chunked:
        body = await _read_chunked(proto)
    elif length >= 0:
        while len(buf) < length:
            await proto.wait_data()
        body = bytes(buf[:length])
        del buf[:length]
    elif status in (204, 304) or 100 <= status < 200:
        body = b""
    else:  # read until close
        while not proto.closed:
            await proto.wait_data()
        body = bytes(buf)
        buf.clear()
        keep_alive = False
    return Response(status, headers, body), keep_alive


async def _read_chunked(proto: _Protocol) -> bytes:
    buf = proto.buffer
    body = bytearray()
    while True:
        while (eol := buf.find(b"\r\n")) < 0:
            await proto.wait_data()
        size = int(bytes(buf[:eol]).split(b";")[0], 16)
        del buf[: eol + 2]
        while len(buf) < size + 2:
            await proto.wait_data()
        body += buf[:size]
        del buf[: size + 2]
        if size == 0:
            return bytes(body)


# --- Scenarios --------------------------------------------------------------------


@dataclass
class Result:
    name: str
    duration: float
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    exceptions: Counter[str] = field(default_factory=Counter)
    client_cpu: float = 0.0
    target_rate: float | None = None
    note: str = ""
    # Set when the load came from wrk, which reports percentiles rather than samples.
    fixed_percentiles: dict[float, float] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.latencies)

    @property
    def ok_count(self) -> int:
        return sum(n for status, n in self.statuses.items() if 200 <= status < 400)

    @property
    def errors(self) -> int:
        bad = sum(n for status, n in self.statuses.items() if not 200 <= status < 400)
        return bad + sum(self.exceptions.values())

    @property
    def rate(self) -> float:
        return self.ok_count / self.duration if self.duration else 0.0

    def percentile(self, p: float) -> float:
        if p in self.fixed_percentiles:
            return self.fixed_percentiles[p]
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
        return ordered[index]

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "requests": self.count,
            "rate": round(self.rate, 1),
            "p50_ms": round(self.percentile(50) * 1000, 2),
            "p99_ms": round(self.percentile(99) * 1000, 2),
            "max_ms": round(max(self.latencies, default=0) * 1000, 2),
            "errors": self.errors,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "exceptions": dict(self.exceptions),
            "client_cpu_share": round(self.client_cpu / self.duration, 3) if self.duration else 0,
            "target_rate": self.target_rate,
            "note": self.note,
        }


# A "step" does one request on a connection and returns its status. Per-connection
# preparation (the CSRF cookie and form token) happens in `prepare`, untimed.
Step = Callable[[Connection, int], Awaitable[int]]
Prepare = Callable[[Connection, int], Awaitable[None]]


async def _noop_prepare(conn: Connection, worker: int) -> None:
    return None


async def closed_loop(
    name: str,
    host: str,
    port: int,
    step: Step,
    *,
    connections: int,
    duration: float,
    warmup: float,
    prepare: Prepare = _noop_prepare,
) -> Result:
    """`connections` clients, each sending its next request as soon as the last returns."""
    conns = [Connection(host, port) for _ in range(connections)]
    await asyncio.gather(*(prepare(c, i) for i, c in enumerate(conns)))
    result = Result(name, duration)
    loop = asyncio.get_running_loop()
    recording = False
    start = loop.time()
    warm_end = start + warmup
    end = warm_end + duration

    async def client(conn: Connection, worker: int) -> None:
        nonlocal recording
        perf = time.perf_counter
        while True:
            now = loop.time()
            if now >= end:
                return
            rec = now >= warm_end
            t0 = perf()
            try:
                status = await step(conn, worker)
            except (OSError, HTTPError, asyncio.IncompleteReadError, ValueError) as error:
                if rec:
                    result.exceptions[type(error).__name__] += 1
                    result.latencies.append(perf() - t0)
                conn.close()
                await asyncio.sleep(0.01)
                continue
            if rec:
                result.latencies.append(perf() - t0)
                result.statuses[status] += 1

    async def meter() -> None:
        await asyncio.sleep(max(0.0, warm_end - loop.time()))
        cpu0 = time.process_time()
        await asyncio.sleep(max(0.0, end - loop.time()))
        result.client_cpu = time.process_time() - cpu0

    await asyncio.gather(meter(), *(client(c, i) for i, c in enumerate(conns)))
    for conn in conns:
        conn.close()
    return result


async def fixed_rate(
    name: str,
    host: str,
    port: int,
    step: Step,
    *,
    rate: float,
    connections: int,
    duration: float,
    warmup: float,
    prepare: Prepare = _noop_prepare,
) -> Result:
    """Requests start on a fixed schedule whether or not earlier ones returned.

    Latency counts from the scheduled start, so a request that waited for a free
    connection is charged for the wait (no coordinated omission).
    """
    conns = [Connection(host, port) for _ in range(connections)]
    await asyncio.gather(*(prepare(c, i) for i, c in enumerate(conns)))
    idle: asyncio.Queue[tuple[Connection, int]] = asyncio.Queue()
    for i, c in enumerate(conns):
        idle.put_nowait((c, i))
    result = Result(name, duration, target_rate=rate)
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.05
    warm_end = start + warmup
    total = int((warmup + duration) * rate)
    tasks: set[asyncio.Task[None]] = set()

    async def one(intended: float, rec: bool) -> None:
        conn, worker = await idle.get()
        try:
            status = await step(conn, worker)
        except (OSError, HTTPError, asyncio.IncompleteReadError, ValueError) as error:
            conn.close()
            if rec:
                result.exceptions[type(error).__name__] += 1
                result.latencies.append(loop.time() - intended)
        else:
            if rec:
                result.latencies.append(loop.time() - intended)
                result.statuses[status] += 1
        finally:
            idle.put_nowait((conn, worker))

    cpu0 = 0.0
    # A server far slower than the rate would make this run for minutes: give up once
    # two seconds of requests are waiting, and count the rest as abandoned.
    backlog_limit = max(64, int(rate * 2))
    for i in range(total):
        if len(tasks) > backlog_limit:
            result.exceptions["abandoned (server too slow for the rate)"] += total - i
            break
        intended = start + i / rate
        delay = intended - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        rec = intended >= warm_end
        if rec and not cpu0:
            cpu0 = time.process_time()
        task = asyncio.create_task(one(intended, rec))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        _, pending = await asyncio.wait(tasks, timeout=10)
        for task in pending:
            task.cancel()
        if pending:
            result.exceptions["unfinished after 10 s"] += len(pending)
    result.client_cpu = time.process_time() - cpu0
    # The achieved rate is over the scheduled window, plus any tail it took to finish.
    result.duration = max(duration, loop.time() - warm_end)
    for conn in conns:
        conn.close()
    return result


# --- Helpers the scenarios share ----------------------------------------------------

_TOKEN_RE = re.compile(rb'name="csrfmiddlewaretoken"\s+value="([^"]+)"')


def form_token(body: bytes) -> str | None:
    match = _TOKEN_RE.search(body) or re.search(
        rb'value="([^"]+)"\s+name="csrfmiddlewaretoken"', body
    )
    return match.group(1).decode() if match else None
