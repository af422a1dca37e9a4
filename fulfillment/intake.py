"""Starting the fulfillment process for a placed order, exactly once; stopping it when the order is
canceled in Medusa. Decided from the signed event alone: no call to Medusa.

The plugin signs an event only after reading the order, so its data is trusted as it stands. Two guards
keep a redelivered `order.placed` from starting a second process: the order's stored workflow status the
plugin signed into the event (set as soon as the first job reports), and the message id = order id, which
Zeebe refuses while the first message is still buffered (its TTL covers the time before the first status
lands).

A restart (`data.restart`, sent by the admin's "Restart workflow" once Camunda confirmed that no instance
runs for the order) passes the stored status, which belongs to the lost process, and is published with its
own message id, so neither guard takes it for a redelivery of the first start.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Literal, Protocol

from fulfillment.orders import MEDUSA_CANCELED_STATUS, OrderCanceledData, OrderPlacedData

logger = logging.getLogger(__name__)

# What publishing each message did: "duplicate" when Zeebe still buffers one with the same message id.
Start = Literal["started", "duplicate"]
Cancellation = Literal["canceled", "duplicate"]
# An `order.canceled` for an order the plugin did not read as canceled: nothing is published.
NotCanceled = Literal["not_canceled"]


class OrderPublisher(Protocol):
    def publish_order_placed(
        self, order_id: str, variables: Mapping[str, Any], message_id: str | None = None
    ) -> Start: ...

    def publish_order_canceled(self, order_id: str) -> Cancellation: ...


def start_fulfillment(order: OrderPlacedData, engine: OrderPublisher) -> Start:
    """Publishes "order-placed" for the order unless a process already runs or ran for it.

    Raises EngineUnavailable (gateway not reachable) and EngineError (the engine refused the message); the
    caller turns them into answers the sender understands.
    """
    if order.restart:
        logger.info("restarting the order's workflow", extra={"restart": order.restart})
        return engine.publish_order_placed(order.id, order.process_variables(), order.start_message_id())
    if order.workflow_status:
        logger.info(
            "order already has a workflow, not starting another",
            extra={"workflow_status": order.workflow_status},
        )
        return "duplicate"
    return engine.publish_order_placed(order.id, order.process_variables())


def stop_fulfillment(order: OrderCanceledData, engine: OrderPublisher) -> Cancellation | NotCanceled:
    """Publishes "order-canceled" when the plugin read the order as canceled: the process ends as
    `canceled` at its current step (or at its next payment check), without a confirmation.

    An event whose status is not `canceled` is answered "not_canceled" and nothing is published. Raises like
    `start_fulfillment`.
    """
    if order.status != MEDUSA_CANCELED_STATUS:
        logger.warning("order.canceled for an order that is not canceled", extra={"status": order.status})
        return "not_canceled"
    return engine.publish_order_canceled(order.id)
