"""What the delivery tests share, in the in-memory stack (tests/e2e) and in production's shape
(tests/production): a receiver that never answers, the shop's own record of its subscribers, and the
plugin's log lines about a delivery.
"""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from devstack.shop import PlacedOrder
from devstack.stack import Stack

from .support import Driver, log_lines, poll

# How long an event may wait before the shop's own subscriber starts on it, and how long the plugin's
# subscriber may take to return, whatever the receiver does.
MAX_SHOP_SUBSCRIBER_WAIT_MS = 1_000
MAX_HANDOFF_MS = 1_000


class HangingReceiver:
    """Listens on the order webhook's port in its place, accepts every connection and never answers: the
    worst a receiver can do to a sender (each attempt lasts until the sender's timeout)."""

    def __init__(self, port: int) -> None:
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", port))
        self._listener.listen(64)
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        with suppress(OSError):  # the listener was closed: done
            while True:
                connection, _ = self._listener.accept()
                self._held.append(connection)

    def close(self) -> None:
        self._listener.close()
        for connection in self._held:
            connection.close()
        self._thread.join(timeout=5)


@contextmanager
def receiver_hanging(stack: Stack) -> Iterator[None]:
    """The order webhook replaced by a HangingReceiver, and back once the block ends."""
    stack.stop_part("order_webhook")
    receiver = HangingReceiver(stack.ports.order_webhook)
    try:
        yield
    finally:
        receiver.close()
        stack.start_order_webhook()


def shop_event(
    stack: Stack, order_id: str, event: str = "order.placed", timeout: float = 60
) -> dict[str, Any]:
    """The shop's own subscriber's record of the order's event (medusa/backend/src/lib/shop-events-log.ts),
    once it ran: `started_at` (epoch ms) and `waited_ms` (from Medusa publishing the event)."""
    found: list[dict[str, Any]] = []

    def recorded() -> bool:
        found[:] = [
            entry for entry in _shop_events(stack.shop_events_log) if entry_matches(entry, order_id, event)
        ]
        return bool(found)

    poll(recorded, timeout, lambda: f"the shop's {event} subscriber for {order_id}", interval=0.05)
    return found[0]


def entry_matches(entry: dict[str, Any], order_id: str, event: str) -> bool:
    return entry.get("order_id") == order_id and entry.get("event") == event


def _shop_events(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def handoff_ms(path: Path, msg_id: str, timeout: float = 30) -> int:
    """How long the plugin's subscriber took to hand the event's delivery to Medusa's workflow engine, as it
    measured and logged it (from its start to its return)."""
    pattern = re.compile(rf"webhook {re.escape(msg_id)}: delivery handed to the workflow engine in (\d+) ms")
    found: list[int] = []

    def logged() -> bool:
        found[:] = [
            int(match.group(1)) for line in log_lines(path, msg_id) if (match := pattern.search(line))
        ]
        return bool(found)

    poll(logged, timeout, lambda: f"the subscriber to hand over {msg_id}")
    return found[0]


def delivered_attempts(path: Path, msg_id: str) -> list[int]:
    """The attempt numbers of the deliveries of this event that the receiver accepted."""
    pattern = re.compile(rf"webhook {re.escape(msg_id)}: delivered \(HTTP 2\d\d, attempt (\d+)\)")
    return [int(match.group(1)) for line in log_lines(path, msg_id) if (match := pattern.search(line))]


def outage_without_held_events(stack: Stack, driver: Driver, orders: int) -> list[dict[str, Any]]:
    """Places `orders` orders one after the other while the order webhook hangs; each one's events must
    reach the shop's own order.placed subscriber within a second, and the plugin's subscriber must hand
    its delivery to the workflow engine within a second. Then the webhook comes back: the engine's retry
    delivers every order and one process runs each to `completed`. Returns, per order, what was measured:
    `order_id`, `waited_ms` (shop subscriber) and `handoff_ms` (plugin subscriber)."""
    log = stack.subscriber_log
    measured: list[dict[str, Any]] = []
    with receiver_hanging(stack):
        placed = [driver.place_order() for _ in range(orders)]
        waits = [shop_event(stack, order.id)["waited_ms"] for order in placed]
        for order, waited in zip(placed, waits, strict=True):
            handoff = handoff_ms(log, f"msg_order_placed_{order.id}")
            measured.append({"order_id": order.id, "waited_ms": waited, "handoff_ms": handoff})
        first = f"msg_order_placed_{placed[0].id}: attempt 1/"
        poll(lambda: bool(log_lines(log, first)), 60, lambda: "a first attempt that ran into the timeout")
        assert not log_lines(log, f"msg_order_placed_{placed[0].id}: delivered")
    print(f"\nwhile the order webhook hung (per order): {measured}")
    for entry in measured:
        assert entry["waited_ms"] <= MAX_SHOP_SUBSCRIBER_WAIT_MS, measured
        assert entry["handoff_ms"] <= MAX_HANDOFF_MS, measured
    for order in placed:
        _delivered_by_the_engines_retry(stack, driver, order)
    return measured


def _delivered_by_the_engines_retry(stack: Stack, driver: Driver, order: PlacedOrder) -> None:
    assert driver.wait_for_status(order.id, timeout=120)["workflow_status"] == "completed"
    assert len(driver.instances(order.id)) == 1
    # The engine's retry of the subscriber's delivery got through (the job's resends are attempt 1).
    msg_id = f"msg_order_placed_{order.id}"
    poll(
        lambda: any(attempt > 1 for attempt in delivered_attempts(stack.subscriber_log, msg_id)),
        60,
        lambda: f"the retried delivery of {order.id}",
    )
