"""Two cancels of one order at once through the plugin's cancel route, as a worker that retries a call that
timed out sends them: the order ends canceled once, and none of its stock stays reserved.

Found by the chaos run (devstack/chaos): without one cancel at a time, the second run of Medusa's cancel
workflow failed on the order's active change, and its compensation restored the reservations the first
run had released.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from devstack.stack import Stack

from .plugin_support import PluginRoutes
from .support import GuardedWebhook

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def routes(stack: Stack, guarded_webhook: GuardedWebhook) -> Iterator[PluginRoutes]:
    routes = PluginRoutes(stack)
    yield routes
    routes.close()


def test_two_cancels_at_once_cancel_the_order_once_and_release_its_stock(routes: PluginRoutes) -> None:
    placed = routes.place_unstarted_order()

    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(lambda _: routes.post("cancel", placed.id), range(2)))

    assert [answer.status_code for answer in answers] == [200, 200], [answer.text for answer in answers]
    outcomes = sorted(answer.json()["outcome"] for answer in answers)
    assert outcomes == ["already_canceled", "canceled"]
    assert routes.order(placed.id)["status"] == "canceled"
    assert routes.call("view", placed.id)["order"]["reservations"] == [], "no reservation was restored"
