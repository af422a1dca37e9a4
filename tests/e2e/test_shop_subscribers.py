"""A shop with its own order subscribers, named the way Medusa's docs name them (`orderPlacedHandler`,
`orderCanceledHandler`, no subscriber id), next to the plugin's: Medusa starts, and both run for an order.

The demo shop's subscribers write a line per event into SHOP_EVENTS_LOG; the plugin's subscribers send
the signed webhooks, and the order webhook starts the order's process.
"""

from __future__ import annotations

import json

import pytest

from devstack.engine_view import EngineView
from devstack.stack import Stack

from .plugin_support import PluginRoutes
from .support import log_lines, poll

pytestmark = pytest.mark.e2e


def shop_events(stack: Stack, order_id: str) -> set[str]:
    if not stack.shop_events_log.exists():
        return set()
    lines = stack.shop_events_log.read_text().splitlines()
    return {entry["event"] for entry in map(json.loads, lines) if entry["order_id"] == order_id}


def test_the_shops_own_order_subscribers_and_the_plugins_both_run(stack: Stack) -> None:
    routes = PluginRoutes(stack)
    engine = EngineView(stack.engine_http_url)
    medusa_log = stack.group.get("medusa").log_path
    try:
        order = routes.place_order()

        poll(
            lambda: "order.placed" in shop_events(stack, order.id),
            30,
            lambda: "the shop's orderPlacedHandler",
        )
        delivered = f"webhook msg_order_placed_{order.id}: delivered"
        poll(lambda: bool(log_lines(medusa_log, delivered)), 30, lambda: "the plugin's order.placed webhook")
        poll(lambda: bool(engine.instances_for(order.id)), 30, lambda: f"a process for {order.id}")

        routes.admin.post(f"/admin/orders/{order.id}/cancel")

        poll(
            lambda: "order.canceled" in shop_events(stack, order.id),
            30,
            lambda: "the shop's orderCanceledHandler",
        )
        canceled = f"webhook msg_order_canceled_{order.id}: delivered"
        poll(lambda: bool(log_lines(medusa_log, canceled)), 30, lambda: "the plugin's order.canceled webhook")
    finally:
        engine.close()
        routes.close()
