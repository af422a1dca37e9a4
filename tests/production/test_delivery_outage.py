"""Delivery during an outage of the order webhook, in production's shape: the Redis event bus runs one
event job at a time and a job ends when all of the event's subscribers have, so a subscriber that held
its event (the plugin's delivery used to retry inside it, for minutes) would hold every later event of
the shop. Here the webhook hangs while orders are placed one after the other, and the shop's own, slow
order.placed subscriber must still start within a second of each event's publication.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from e2e.delivery_support import outage_without_held_events
from e2e.support import Driver

from devstack.stack import Stack

pytestmark = pytest.mark.production

# How long the shop's own order.placed subscriber works per event (SHOP_ORDER_PLACED_DELAY_MS).
SHOP_SUBSCRIBER_WORK_MS = 300
ORDERS = 3


@pytest.fixture
def slow_shop_subscriber(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The worker-mode Medusa restarted with a slow shop subscriber on order.placed, and back without it."""
    monkeypatch.setenv("SHOP_ORDER_PLACED_DELAY_MS", str(SHOP_SUBSCRIBER_WORK_MS))
    stack.stop_part("medusa_worker")
    stack.start_medusa_worker()
    try:
        yield
    finally:
        monkeypatch.delenv("SHOP_ORDER_PLACED_DELAY_MS")
        stack.stop_part("medusa_worker")
        stack.start_medusa_worker()


def test_a_hanging_webhook_holds_none_of_the_shops_events(
    stack: Stack, driver: Driver, slow_shop_subscriber: None
) -> None:
    outage_without_held_events(stack, driver, orders=ORDERS)
