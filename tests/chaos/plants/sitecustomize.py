"""Plants one bug in the part it is loaded into, for the chaos tests to prove the checker catches it.

Test-only: tests/chaos puts this directory on the PYTHONPATH of one part, with CHAOS_PLANT naming the bug;
Python imports `sitecustomize` at start, before the part's own modules, so the part imports the planted
function. No shipped code reads CHAOS_PLANT.
- mail_before_status (status function): the confirmation mail goes with `payment_verified`, before the
  order is confirmed, instead of with `completed`.
- cancel_not_forwarded (webhook function): `order.canceled` is answered as published but never reaches the
  engine.
- ignores_replaces (status function): every write may replace any stored status, so a late or repeated
  write moves an order back.
"""

from __future__ import annotations

import os

PLANT = os.environ.get("CHAOS_PLANT", "")


def _plant_mail_before_status() -> None:
    from fulfillment import status_writer
    from fulfillment.workflow import MailTemplate, Notification, WorkflowStatus

    recorded = status_writer.record_status

    def record_status(medusa, update):  # type: ignore[no-untyped-def]
        if update.status is WorkflowStatus.PAYMENT_VERIFIED and update.notification is None:
            mail = Notification(template=MailTemplate.ORDER_CONFIRMATION)
            update = update.model_copy(update={"notification": mail})
        return recorded(medusa, update)

    status_writer.record_status = record_status


def _plant_cancel_not_forwarded() -> None:
    from fulfillment.engine import EngineBridge

    def publish_order_canceled(self, order_id):  # type: ignore[no-untyped-def]
        return "canceled"  # as if published

    EngineBridge.publish_order_canceled = publish_order_canceled  # type: ignore[method-assign]


def _plant_ignores_replaces() -> None:
    from fulfillment import status_writer
    from fulfillment.workflow import WorkflowStatus

    def replaceable_statuses(status):  # type: ignore[no-untyped-def]
        return [None, *(stored.value for stored in WorkflowStatus)]

    status_writer.replaceable_statuses = replaceable_statuses  # type: ignore[attr-defined]


PLANTS = {
    "mail_before_status": _plant_mail_before_status,
    "cancel_not_forwarded": _plant_cancel_not_forwarded,
    "ignores_replaces": _plant_ignores_replaces,
}
if PLANT:
    PLANTS[PLANT]()
