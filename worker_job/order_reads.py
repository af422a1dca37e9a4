"""The worker's one read of an order, which serves every step of its process.

One call of the plugin's `view` route answers all the steps need: payment collections (amounts authorized
and captured), each line item with its variant (whether Medusa manages its inventory, how many units of
which inventory item one unit needs) and the order's reservations.

verify-payment always reads afresh (a payment can change until it is checked). The later steps of the
same order reuse that answer while it is younger than `reuse_seconds`: line items, variants and the
reservations Medusa made at checkout do not change within seconds, and an order staff cancel meanwhile is
caught by the status route, which answers `order_canceled`. A worker that did not make the first read, or
a retry after the answer aged, reads again.

A step whose check fails reads the order once more after `settle_seconds` (the worker's setting
WORKER_SETTLE_SECONDS; `settled_view`, see worker_job/confirm.py): Medusa's cancel shows an open order
without its stock for a moment.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Final

from fulfillment.medusa import MedusaClient
from fulfillment.orders import OrderView

# A process runs its steps within about a second; a minute leaves room for a busy shop without letting a
# retry hours later (after an incident) act on an old answer.
DEFAULT_REUSE_SECONDS: Final = 60.0
# Orders whose answer is kept at once (the oldest is dropped first): far above the worker's running jobs.
REUSE_CAPACITY: Final = 1024
# Medusa's cancel workflow runs its steps within a few hundred milliseconds; three seconds leave room for a
# busy shop and cost nothing but a rare negative finding's wait (WORKER_SETTLE_SECONDS's default).
DEFAULT_SETTLE_SECONDS: Final = 3.0


class OrderReader:
    """The worker's reads of orders through `client`, keeping each order's last view for the later steps."""

    def __init__(
        self,
        client: MedusaClient,
        *,
        reuse_seconds: float = DEFAULT_REUSE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        settle_seconds: float = DEFAULT_SETTLE_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = client
        self._reuse_seconds = reuse_seconds
        self._clock = clock
        self.settle_seconds = settle_seconds
        self._sleep = sleep
        self._lock = threading.Lock()
        self._views: OrderedDict[str, tuple[float, OrderView]] = OrderedDict()

    def view_order(self, order_id: str) -> OrderView:
        """Always a fresh read, kept for the later steps."""
        read_at = self._clock()
        view = self._client.view_order(order_id)
        with self._lock:
            self._views[order_id] = (read_at, view)
            self._views.move_to_end(order_id)
            while len(self._views) > REUSE_CAPACITY:
                self._views.popitem(last=False)
        return view

    def recent_view(self, order_id: str) -> OrderView:
        """The kept view while it is young enough, else a fresh read."""
        with self._lock:
            kept = self._views.get(order_id)
        if kept is not None and self._clock() - kept[0] < self._reuse_seconds:
            return kept[1]
        return self.view_order(order_id)

    def settled_view(self, order_id: str) -> OrderView:
        """A fresh read after the settle interval: the second look at an order a step found failing."""
        self._sleep(self.settle_seconds)
        return self.view_order(order_id)
