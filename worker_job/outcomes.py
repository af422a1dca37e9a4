"""Business outcomes a handler throws as BPMN errors, with variables the model's catch event maps on."""

from __future__ import annotations

from typing import Any

from pyzeebe.errors import BusinessError

from fulfillment.orders import MEDUSA_CANCELED_STATUS
from fulfillment.workflow import BpmnErrorCode


class BusinessOutcome(BusinessError):
    """A BPMN error with the cause as its message and more variables for the catch event's mappings."""

    def __init__(self, code: BpmnErrorCode, cause: str, **variables: Any) -> None:
        super().__init__(code.value, cause)
        self.variables = variables


def order_canceled(order_id: str) -> BusinessOutcome:
    """Ends the process as `canceled` (no mail): the order's released stock and payment must not read as a
    failure."""
    return BusinessOutcome(BpmnErrorCode.ORDER_CANCELED, f"order {order_id} is canceled in Medusa")


def stop_if_canceled(order_id: str, order_status: str) -> None:
    """Every step that reads the order stops when staff canceled it, before the cancellation message
    arrives."""
    if order_status == MEDUSA_CANCELED_STATUS:
        raise order_canceled(order_id)
