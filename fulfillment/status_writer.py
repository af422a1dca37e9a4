"""Writing a workflow status into an order's metadata without ever moving the order backwards.

Read the stored status, decide with `workflow.should_apply`, then send only the workflow's own keys: Medusa
merges top-level metadata keys, so whatever other writers stored survives. Medusa has no optimistic
concurrency, so two writes for one order must not overlap: inside one process a per-order lock serialises
them; across processes the worker's rule holds (it reports one order's steps one after another).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

from fulfillment.medusa import MedusaClient, OrderCanceled
from fulfillment.workflow import KEY_STATUS, StatusUpdate, metadata_for, should_apply

logger = logging.getLogger(__name__)

NotAppliedReason = Literal["stale", "order_canceled"]


@dataclass(frozen=True)
class StatusOutcome:
    order_id: str
    applied: bool
    workflow_status: str | None  # the status stored on the order after this call
    reason: NotAppliedReason | None = None

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "order_id": self.order_id,
            "applied": self.applied,
            "workflow_status": self.workflow_status,
        }
        if self.reason:
            body["reason"] = self.reason
        return body


class _OrderLocks:
    """One lock per order id, dropped again when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, tuple[threading.Lock, int]] = {}

    @contextmanager
    def hold(self, order_id: str) -> Iterator[None]:
        with self._guard:
            lock, users = self._locks.get(order_id, (threading.Lock(), 0))
            self._locks[order_id] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._guard:
                lock, users = self._locks[order_id]
                if users == 1:
                    del self._locks[order_id]
                else:
                    self._locks[order_id] = (lock, users - 1)


_order_locks = _OrderLocks()


def record_status(medusa: MedusaClient, update: StatusUpdate) -> StatusOutcome:
    """Applies `update` to the order's metadata when it moves the order forward.

    A canceled order's metadata cannot change any more (Medusa answers 400 "has been canceled"): that is
    reported as not applied with reason "order_canceled", not as an error, because retrying can never
    succeed and the worker must not retry forever. Raises OrderNotFound and MedusaUnavailable.
    """
    with _order_locks.hold(update.order_id):
        current = medusa.get_order_metadata(update.order_id)
        stored_status = current.get(KEY_STATUS)
        if not should_apply(current, update):
            logger.info(
                "status not applied: would move the order backwards or is stale",
                extra={"stored_status": stored_status, "update_status": update.status.value},
            )
            return StatusOutcome(update.order_id, False, stored_status, "stale")
        try:
            stored = medusa.update_order_metadata(update.order_id, metadata_for(update))
        except OrderCanceled:
            logger.warning(
                "status not applied: the order is canceled", extra={"update_status": update.status}
            )
            return StatusOutcome(update.order_id, False, stored_status, "order_canceled")
        logger.info("status applied", extra={"workflow_status": update.status.value, "step": update.step})
        return StatusOutcome(update.order_id, True, stored.get(KEY_STATUS, update.status.value))
