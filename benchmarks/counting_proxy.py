"""A counting reverse proxy in front of Medusa: every Admin API call the functions and the worker make.

Run as its own process (so counting never competes with the benchmark's clients for one interpreter):

    python benchmarks/counting_proxy.py --port 9100 --upstream http://127.0.0.1:9000

Each call is classified (status writes, order reads, other) and counted under the current phase, which the
benchmark names with `POST /__bench/phase {"name": ...}`. Status writes that store a terminal
`workflow_status` are recorded with the moment their answer came back (`time.monotonic()`, which is one
clock for every process on Linux), so the benchmark learns when an order reached its end state without
adding a single read of its own to Medusa's load. `GET /__bench/stats` returns everything as JSON,
`GET /__bench/ended` only the terminal writes.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import parse_qs

import httpx
import uvicorn

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

CONTROL_PREFIX: Final = "/__bench/"
TERMINAL_STATUSES: Final = frozenset({"completed", "payment_failed", "out_of_stock", "failed"})
# Hop-by-hop headers are the proxy's own business (RFC 9110, 7.6.1).
HOP_HEADERS: Final = frozenset({"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "host"})
_ORDER_PATH: Final = re.compile(r"^/admin/orders/(order_[A-Za-z0-9]+)$")
_STATUS_ROUTE: Final = re.compile(r"^/admin/fulfillment-workflow/orders/(order_[A-Za-z0-9]+)/status$")

STATUS_WRITE: Final = "status_write"
ORDER_READ: Final = "order_read"
OTHER: Final = "other"


def classify(method: str, path: str) -> tuple[str, str | None]:
    """(kind, order id or None) of one Admin API call."""
    for pattern in (_STATUS_ROUTE, _ORDER_PATH):
        match = pattern.match(path)
        if match and method == "POST":
            return STATUS_WRITE, match.group(1)
    match = _ORDER_PATH.match(path)
    if match and method == "GET":
        return ORDER_READ, match.group(1)
    return OTHER, None


def written_status(body: bytes) -> str | None:
    """The workflow_status a status write stores (both the metadata POST and the plugin route send it
    under "metadata")."""
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
    # Every read exactly as sent (path and query), so Medusa's read ceiling can replay the same reads.
    gets: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    # order id -> (status, monotonic time the write's answer arrived)
    terminal_writes: dict[str, tuple[str, float]] = field(default_factory=dict)

    def record(
        self, method: str, url: str, kind: str, order_id: str | None, status: int, seconds: float
    ) -> None:
        path, _, query = url.partition("?")
        call = f"{method} {path if order_id is None else path.replace(order_id, '{id}')}"
        if kind == ORDER_READ:  # reads of one order differ by the fields they ask for
            call += " fields=" + parse_qs(query).get("fields", [""])[0]
        self.calls[self.phase][kind] += 1
        if method == "GET":
            self.gets[self.phase].append(url)
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
            "gets": dict(self.gets),
            "errors": dict(self.errors),
            "terminal_writes": {order: list(seen) for order, seen in self.terminal_writes.items()},
        }


class CountingProxy:
    """An ASGI app forwarding everything outside /__bench/ to the upstream, counting on the way."""

    def __init__(self, upstream: str) -> None:
        self.tally = Tally()
        self._client = httpx.AsyncClient(
            base_url=upstream,
            timeout=60,
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=100),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = await _read_body(receive)
        path: str = scope["path"]
        if path.startswith(CONTROL_PREFIX):
            await self._control(scope["method"], path.removeprefix(CONTROL_PREFIX), body, send)
            return
        await self._forward(scope, path, body, send)

    async def _forward(self, scope: Scope, path: str, body: bytes, send: Send) -> None:
        method: str = scope["method"]
        headers = [
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, value in scope["headers"]
            if name.decode("latin-1").lower() not in HOP_HEADERS
        ]
        query = scope["query_string"].decode("latin-1")
        url = f"{path}?{query}" if query else path
        kind, order_id = classify(method, path)
        sent_at = time.monotonic()
        try:
            response = await self._client.request(method, url, headers=headers, content=body)
        except httpx.HTTPError as exc:
            self.tally.record(method, url, kind, order_id, 502, time.monotonic() - sent_at)
            await _answer(send, 502, {"error": "bad_gateway", "message": f"{type(exc).__name__}: {exc}"})
            return
        answered_at = time.monotonic()
        self.tally.record(method, url, kind, order_id, response.status_code, answered_at - sent_at)
        if kind == STATUS_WRITE and order_id and response.status_code == 200:
            status = written_status(body)
            if status in TERMINAL_STATUSES and order_id not in self.tally.terminal_writes:
                self.tally.terminal_writes[order_id] = (status, answered_at)
        out_headers = [
            (name.encode("latin-1"), value.encode("latin-1"))
            for name, value in response.headers.items()
            if name.lower() not in HOP_HEADERS and name.lower() not in ("content-length", "content-encoding")
        ]
        content = response.content
        out_headers.append((b"content-length", str(len(content)).encode()))
        await send({"type": "http.response.start", "status": response.status_code, "headers": out_headers})
        await send({"type": "http.response.body", "body": content})

    async def _control(self, method: str, command: str, body: bytes, send: Send) -> None:
        if method == "POST" and command == "phase":
            self.tally.phase = str(json.loads(body)["name"])
            await _answer(send, 200, {"phase": self.tally.phase})
        elif method == "GET" and command == "stats":
            await _answer(send, 200, self.tally.as_json())
        elif method == "GET" and command == "ended":
            # Polled while orders run: only the terminal writes, so polling costs next to nothing.
            await _answer(send, 200, {k: list(v) for k, v in self.tally.terminal_writes.items()})
        else:
            await _answer(send, 404, {"error": "not_found", "message": command})


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _answer(send: Send, status: int, payload: dict[str, Any]) -> None:
    body = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True)
    args = parser.parse_args()
    uvicorn.run(
        CountingProxy(args.upstream), host="127.0.0.1", port=args.port, log_level="warning", access_log=False
    )


if __name__ == "__main__":
    main()
