"""An HTTP proxy on loopback between two parts, which the nemesis turns faulty for a while.

Each link the run cares about goes through one: the worker and the status function to Medusa, Medusa's
subscriber to the webhook function, the worker to the status function. A fault lasts until its end time:
- `slow`: every request waits `delay` seconds before it is forwarded;
- `error`: every request is answered 503 (with Retry-After) and never forwarded;
- `cut`: the connection is closed without an answer, half the time before the request is forwarded (it is
  lost) and half the time after (it took effect but the caller cannot know);
- `replay`: requests pass, and each is sent once more about `delay` seconds later (0.5 to 1.5 times it, so
  the copies may arrive in another order), as a network that duplicates and delays requests would (the
  late copy's answer goes nowhere).

Plain asyncio streams in a thread of the run's own process: a request is read whole (the callers send
bodies with Content-Length), forwarded on a new upstream connection that closes after the answer, and the
answer is passed back with `connection: close`, so no pooled connection outlives a fault.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

from devstack.parts import free_port

FaultMode = Literal["slow", "error", "cut", "replay"]
HEAD_LIMIT = 64 * 1024
UPSTREAM_TIMEOUT_SECONDS = 60.0
ERROR_ANSWER = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\n"
    b'content-length: 47\r\nconnection: close\r\n\r\n{"error":"unavailable","message":"fault proxy"}'
)


@dataclass(frozen=True)
class Fault:
    mode: FaultMode
    until: float  # time.monotonic()
    delay: float = 0.0


@dataclass(frozen=True)
class Request:
    head: bytes
    body: bytes

    @property
    def start_line(self) -> str:
        return self.head.split(b"\r\n", 1)[0].decode("latin-1")

    def json(self) -> object:
        try:
            return json.loads(self.body)
        except ValueError:
            return None


# A request the proxy answers itself, 503, without forwarding it (e.g. a delivery held back on purpose).
Hold = Callable[[Request], bool]


class FaultProxy:
    def __init__(self, name: str, upstream_port: int, seed: int) -> None:
        self.name = name
        self.upstream_port = upstream_port
        self.port = free_port()
        self.forwarded = 0
        self._faults: list[Fault] = []
        self._holds: list[Hold] = []
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"proxy-{name}", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # Control, from any thread --------------------------------------------------------------------
    def start(self) -> FaultProxy:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError(f"the {self.name} fault proxy did not start")
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def inject(self, mode: FaultMode, seconds: float, delay: float = 0.0) -> None:
        with self._lock:
            self._faults.append(Fault(mode, time.monotonic() + seconds, delay))

    def hold(self, rule: Hold) -> None:
        with self._lock:
            self._holds.append(rule)

    def release(self, rule: Hold) -> None:
        with self._lock:
            self._holds.remove(rule)

    def _current(self) -> list[Fault]:
        now = time.monotonic()
        with self._lock:
            self._faults = [fault for fault in self._faults if fault.until > now]
            return list(self._faults)

    def _held(self, request: Request) -> bool:
        with self._lock:
            holds = list(self._holds)
        return any(rule(request) for rule in holds)

    # The server ----------------------------------------------------------------------------------
    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", self.port))
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            server.close()
            self._loop.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await _read_request(reader)
            if request is not None:
                answer = await self._answer(request)
                if answer is not None:
                    writer.write(answer)
                    await writer.drain()
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            pass
        finally:
            writer.close()

    async def _answer(self, request: Request) -> bytes | None:
        """The bytes to send back, or None to close the connection without an answer."""
        if self._held(request):
            return ERROR_ANSWER
        for fault in self._current():
            if fault.mode == "slow":
                await asyncio.sleep(fault.delay)
            elif fault.mode == "error":
                return ERROR_ANSWER
            elif fault.mode == "cut":
                if self._random.random() < 0.5:
                    return None
                await self._forward(request)
                return None
            elif fault.mode == "replay":
                late = fault.delay * self._random.uniform(0.5, 1.5)
                self._loop.call_later(late, lambda: self._loop.create_task(self._forward(request)))
        return await self._forward(request)

    async def _forward(self, request: Request) -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        try:
            writer.write(_with_connection_close(request.head) + b"\r\n\r\n" + request.body)
            await writer.drain()
            answer = await asyncio.wait_for(reader.read(-1), UPSTREAM_TIMEOUT_SECONDS)
        finally:
            writer.close()
        self.forwarded += 1
        head, separator, body = answer.partition(b"\r\n\r\n")
        return _with_connection_close(head) + separator + body


async def _read_request(reader: asyncio.StreamReader) -> Request | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    if len(head) > HEAD_LIMIT:
        return None
    head = head[:-4]
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    body = await reader.readexactly(length) if length else b""
    return Request(head, body)


def _with_connection_close(head: bytes) -> bytes:
    """The head with its connection headers replaced by `connection: close`."""
    lines = [
        line
        for line in head.split(b"\r\n")
        if line.partition(b":")[0].strip().lower() not in (b"connection", b"keep-alive")
    ]
    return b"\r\n".join([*lines, b"connection: close"])


@contextlib.contextmanager
def holding(proxy: FaultProxy, rule: Hold) -> Iterator[None]:
    proxy.hold(rule)
    try:
        yield
    finally:
        proxy.release(rule)
