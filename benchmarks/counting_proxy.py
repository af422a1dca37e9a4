"""A counting reverse proxy in front of Medusa: every call the functions and the worker make to it.

Run as its own process (so counting never competes with the benchmark's clients for one interpreter):

    python -m benchmarks.counting_proxy --port 9100 --upstream http://127.0.0.1:9000

Each call is classified by the plugin route it reaches (view, cancel, status write; anything else is
`other`, which the cloud side should never make) and counted under the current phase, which the
benchmark names with `POST /__bench/phase {"name": ...}`. Status writes that store a terminal
`workflow_status` are recorded with the moment their answer came back (`time.monotonic()`, which is one
clock for every process on Linux), so the benchmark learns when an order reached its end state without
adding a single read of its own to Medusa's load. Each plugin call's body is kept per phase and order, so
Medusa's ceiling can replay exactly the calls an order made (`GET /__bench/exchanges?phase=NAME`), and each
call's send and answer moments per phase, so a phase's steady part can be told from its ramp.
`GET /__bench/stats` returns the counts and moments as JSON, `GET /__bench/ended` only the terminal writes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit

CONTROL_PREFIX: Final = "/__bench/"
TERMINAL_STATUSES: Final = frozenset({"completed", "payment_failed", "out_of_stock", "cancel_refused"})
# The plugin's signed routes, the only calls the cloud side makes (docs/contracts.md).
_PLUGIN_ROUTE: Final = re.compile(r"^/fulfillment-workflow/orders/(order_[A-Za-z0-9]+)/(view|cancel|status)$")

# Kinds of calls, and the part that makes each (the route's secret belongs to one caller).
VIEW: Final = "view"
CANCEL: Final = "cancel"
STATUS_WRITE: Final = "status_write"
OTHER: Final = "other"
CALLER: Final = {VIEW: "worker", CANCEL: "worker", STATUS_WRITE: "status_update", OTHER: "unexpected"}
_ROUTE_KIND: Final = {"view": VIEW, "cancel": CANCEL, "status": STATUS_WRITE}


def classify(method: str, path: str) -> tuple[str, str | None]:
    """(kind, order id or None) of one call to Medusa."""
    match = _PLUGIN_ROUTE.match(path)
    if match and method == "POST":
        return _ROUTE_KIND[match.group(2)], match.group(1)
    return OTHER, None


def written_status(body: bytes) -> str | None:
    """The workflow_status a status write stores (under "metadata")."""
    try:
        payload = json.loads(body)
    except ValueError:
        return None
    metadata = payload.get("metadata") if isinstance(payload, dict) else None
    status = metadata.get("workflow_status") if isinstance(metadata, dict) else None
    return status if isinstance(status, str) else None


@dataclass
class Tally:
    """What the proxy saw, per phase."""

    phase: str = "setup"
    calls: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    per_order: dict[str, dict[str, Counter[str]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(Counter))
    )
    paths: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    # Seconds Medusa took to answer, summed per phase and call (as in `paths`).
    seconds: dict[str, dict[str, float]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(float))
    )
    errors: Counter[str] = field(default_factory=Counter)
    # (monotonic time sent, monotonic time answered) of every call, per phase
    moments: dict[str, list[tuple[float, float]]] = field(default_factory=lambda: defaultdict(list))
    # phase -> order id -> [(kind, path, body), ...] in the order the calls were made
    exchanges: dict[str, dict[str, list[tuple[str, str, str]]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list))
    )
    # order id -> (status, monotonic time the write's answer arrived)
    terminal_writes: dict[str, tuple[str, float]] = field(default_factory=dict)

    def record(
        self,
        method: str,
        url: str,
        kind: str,
        order_id: str | None,
        status: int,
        moments: tuple[float, float],
        body: bytes,
    ) -> None:
        path = url.partition("?")[0]
        call = f"{method} {path if order_id is None else path.replace(order_id, '{id}')}"
        seconds = moments[1] - moments[0]
        self.moments[self.phase].append(moments)
        if order_id and status < 400:
            self.exchanges[self.phase][order_id].append((kind, path, body.decode()))
        self.calls[self.phase][kind] += 1
        self.paths[self.phase][call] += 1
        self.seconds[self.phase][call] += seconds
        if order_id:
            self.per_order[self.phase][order_id][kind] += 1
        if status >= 400:
            self.errors[f"{self.phase}: {method} {status}"] += 1

    def as_json(self) -> dict[str, Any]:
        return {
            "phase": self.phase,
            "calls": {phase: dict(kinds) for phase, kinds in self.calls.items()},
            "per_order": {
                phase: {order: dict(kinds) for order, kinds in orders.items()}
                for phase, orders in self.per_order.items()
            },
            "paths": {phase: dict(paths) for phase, paths in self.paths.items()},
            "seconds": {phase: dict(seconds) for phase, seconds in self.seconds.items()},
            "errors": dict(self.errors),
            "moments": {phase: [list(pair) for pair in pairs] for phase, pairs in self.moments.items()},
            "terminal_writes": {order: list(seen) for order, seen in self.terminal_writes.items()},
        }


class _ClosedWhileIdle(ConnectionError):
    """The upstream closed a kept-alive connection before answering on it."""


@dataclass(frozen=True)
class Head:
    """The start line and headers of one HTTP/1.1 message, and the bytes they came in."""

    start_line: str
    headers: dict[str, str]
    raw: bytes

    @property
    def content_length(self) -> int:
        return int(self.headers.get("content-length", "0"))


async def read_head(reader: asyncio.StreamReader) -> Head | None:
    """The next message's head, or None when the peer closed the connection between messages."""
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = raw.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name:
            headers[name.strip().lower()] = value.strip()
    return Head(lines[0], headers, raw)


class CountingProxy:
    """Forwards everything outside /__bench/ to the upstream as bytes, counting on the way.

    Plain asyncio streams rather than an HTTP framework and client: the proxy shares the machine's cores
    with Medusa during the benchmark, so it parses only what it must (the start lines, the lengths) and
    keeps a pool of upstream connections. Bodies must come with Content-Length, as the Admin API's do.
    """

    def __init__(self, upstream: str) -> None:
        self.tally = Tally()
        host, _, port = upstream.removeprefix("http://").rstrip("/").partition(":")
        self._upstream = (host, int(port or 80))
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while (head := await read_head(reader)) is not None:
                body = await reader.readexactly(head.content_length)
                method, target, _ = head.start_line.split(" ", 2)
                if target.startswith(CONTROL_PREFIX):
                    writer.write(self._control(method, target.removeprefix(CONTROL_PREFIX), body))
                else:
                    writer.write(await self._forward(method, target, head, body))
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def _forward(self, method: str, url: str, head: Head, body: bytes) -> bytes:
        path = url.partition("?")[0]
        kind, order_id = classify(method, path)
        sent_at = time.monotonic()
        try:
            status, answer = await self._exchange(head.raw + body)
        except (OSError, asyncio.IncompleteReadError) as exc:
            self.tally.record(method, url, kind, order_id, 502, (sent_at, time.monotonic()), body)
            return _response(502, {"error": "bad_gateway", "message": f"{type(exc).__name__}: {exc}"})
        answered_at = time.monotonic()
        self.tally.record(method, url, kind, order_id, status, (sent_at, answered_at), body)
        if kind == STATUS_WRITE and order_id and status == 200:
            written = written_status(body)
            if written in TERMINAL_STATUSES and order_id not in self.tally.terminal_writes:
                self.tally.terminal_writes[order_id] = (written, answered_at)
        return answer

    async def _exchange(self, request: bytes) -> tuple[int, bytes]:
        """Sends one request upstream; (status, the whole answer as bytes). A pooled connection the
        upstream closed while idle (Node closes them after a few seconds) fails before any answer: the
        request then goes once more on a new connection."""
        while self._idle:
            reader, writer = self._idle.pop()
            try:
                return await self._send_on(reader, writer, request)
            except _ClosedWhileIdle:
                continue
        return await self._send_on(*await asyncio.open_connection(*self._upstream), request)

    async def _send_on(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
    ) -> tuple[int, bytes]:
        head = None
        try:
            writer.write(request)
            await writer.drain()
            head = await read_head(reader)
            if head is None:
                raise _ClosedWhileIdle
            if "chunked" in head.headers.get("transfer-encoding", ""):
                raise OSError("chunked answers are not supported")
            answer = head.raw + await reader.readexactly(head.content_length)
        except ConnectionError as exc:
            writer.close()
            if head is None:  # nothing came back: the request was not taken
                raise _ClosedWhileIdle from exc
            raise
        except BaseException:
            writer.close()
            raise
        keep_alive = head.start_line.startswith("HTTP/1.1") or "keep-alive" in head.headers.get(
            "connection", ""
        )
        if keep_alive and head.headers.get("connection", "").lower() != "close":
            self._idle.append((reader, writer))
        else:
            writer.close()
        return int(head.start_line.split(" ", 2)[1]), answer

    def _control(self, method: str, target: str, body: bytes) -> bytes:
        command, query = urlsplit(target).path, parse_qs(urlsplit(target).query)
        if method == "GET" and command == "exchanges":
            phase = query.get("phase", [self.tally.phase])[0]
            orders = self.tally.exchanges.get(phase, {})
            return _response(200, {order: [list(call) for call in calls] for order, calls in orders.items()})
        if method == "POST" and command == "phase":
            self.tally.phase = str(json.loads(body)["name"])
            return _response(200, {"phase": self.tally.phase})
        if method == "GET" and command == "stats":
            return _response(200, self.tally.as_json())
        if method == "GET" and command == "ended":
            # Polled while orders run: only the terminal writes, so polling costs next to nothing.
            return _response(200, {k: list(v) for k, v in self.tally.terminal_writes.items()})
        return _response(404, {"error": "not_found", "message": command})


def _response(status: int, payload: dict[str, Any]) -> bytes:
    body = json.dumps(payload).encode()
    head = (
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


async def _serve(port: int, upstream: str) -> None:
    proxy = CountingProxy(upstream)
    server = await asyncio.start_server(proxy.serve, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True)
    args = parser.parse_args()
    asyncio.run(_serve(args.port, args.upstream))


if __name__ == "__main__":
    main()
