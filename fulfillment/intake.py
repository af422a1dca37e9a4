"""Starting the fulfillment process for a placed order, exactly once.

Only the order id from the webhook is trusted: the order is read from Medusa. Two guards keep a redelivered
webhook from starting a second process: the workflow marker in the order's metadata (written by the status
function as soon as the first job runs), and the message id = order id, which Zeebe refuses while the first
message is still buffered (its TTL covers the time before the first status lands).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Literal, Protocol

from fulfillment.medusa import MedusaClient
from fulfillment.workflow import KEY_STATUS, has_workflow_marker

logger = logging.getLogger(__name__)

Publication = Literal["started", "duplicate"]


# The errors live here, beside the publisher that raises them, so code that only answers them (the HTTP
# layer of both functions) does not import the engine's gRPC stack.
class EngineError(Exception):
    """The engine refused a call for a reason retrying will not fix (e.g. bad credentials)."""


class EngineUnavailable(EngineError):
    """The gateway could not be reached, timed out or is in back pressure: try again later."""


class OrderPublisher(Protocol):
    def publish_order_placed(self, order_id: str, variables: Mapping[str, Any]) -> Publication: ...


def start_fulfillment(order_id: str, medusa: MedusaClient, engine: OrderPublisher) -> Publication:
    """Publishes "order-placed" for the order unless a process already runs or ran for it.

    Raises OrderNotFound (no such order), MedusaUnavailable / MedusaAuthError (Medusa not usable),
    EngineUnavailable (gateway not reachable) and EngineError (the engine refused the message); the caller
    turns them into answers the sender understands.
    """
    order = medusa.get_order(order_id)
    if has_workflow_marker(order.metadata):
        logger.info(
            "order already has a workflow, not starting another",
            extra={"workflow_status": order.metadata.get(KEY_STATUS)},
        )
        return "duplicate"
    return engine.publish_order_placed(order.id, order.process_variables())
