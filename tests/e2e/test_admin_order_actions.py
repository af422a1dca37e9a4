"""The admin's actions on an order's process, in a real Medusa with the plugin, the real webhook function,
the local engine (its gRPC gateway and its Camunda REST API, which the plugin asks) and the worker.

- Restart: refused while Camunda shows the order's instance ACTIVE; once the instance is canceled (as in
  Operate) the order is stuck (a resend is `duplicate`), the restart records who, why and when, a new
  instance starts through the webhook with the restart's message id, and the order completes.
- Refused with a sentence, changing nothing, when Camunda cannot be reached.
- Incident: a job failed with no retries left makes the engine raise an incident; the route shows its
  message, element and time, and "Retry" gives the job its retries back and resolves it, so the order
  completes; who retried is recorded.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devstack.stack import Stack

from .order_actions_support import (
    OrderActions,
    active_instance,
    cancel_instance,
    fail_job_without_retries,
    no_worker,
)
from .support import Driver, log_lines, poll

pytestmark = pytest.mark.e2e

REASON = "The process was canceled in Operate by mistake."
OUTAGE = "Medusa answered 503 for an hour"


@pytest.fixture
def ops(stack: Stack) -> Iterator[OrderActions]:
    client = OrderActions(stack.medusa_url, stack.admin_token)
    yield client
    client.close()


def restart_record(ops: OrderActions, order_id: str) -> object:
    response = ops.actions(order_id)
    assert response.status_code == 200, response.text
    return response.json()["last_restart"]


def test_a_lost_process_is_restarted_from_the_admin_and_the_order_completes(
    stack: Stack, driver: Driver, ops: OrderActions
) -> None:
    with no_worker(stack):
        order = driver.place_order()
        first = active_instance(driver, order.id)

        running = ops.restart(order.id, REASON)
        assert running.status_code == 409, running.text
        assert "still runs" in running.json()["message"]
        assert ops.actions(order.id).json()["restart"]["offer"] == "hidden"
        assert restart_record(ops, order.id) is None

        # The lost process had reported a status before it was canceled: every resend is now a duplicate.
        driver.reset_workflow_status(order.id, "payment_verified")
        cancel_instance(stack, first["key"])
        poll(
            lambda: ops.actions(order.id).json()["restart"]["offer"] == "available",
            30,
            lambda: f"the restart to be offered: {ops.actions(order.id).json()}",
        )
        assert ops.resend(order.id).json()["status"] == "duplicate"

        restarted = ops.restart(order.id, REASON)
        assert restarted.status_code == 200, restarted.text
        answer = restarted.json()
        assert answer["status"] == "started"
        assert answer["restart"]["number"] == 1
        assert answer["restart"]["by"] == ops.me()["id"]
        assert answer["restart"]["reason"] == REASON
        assert answer["restart"]["previous_status"] == "payment_verified"
        assert answer["restart"]["previous_instance"] is None
        second = active_instance(driver, order.id)
        assert second["key"] != first["key"]

    metadata = driver.wait_for_status(order.id, timeout=90)
    assert metadata["workflow_status"] == "completed", metadata
    states = sorted(instance["state"] for instance in driver.instances(order.id))
    assert states == ["COMPLETED", "TERMINATED"], driver.instances(order.id)
    record = restart_record(ops, order.id)
    assert isinstance(record, dict)
    assert record["by_email"] == stack.admin_login.email
    assert ops.actions(order.id).json()["restart"]["offer"] == "hidden"
    again = ops.restart(order.id, REASON)
    assert again.status_code == 409, again.text
    assert "has ended" in again.json()["message"]


def test_a_restart_needs_a_reason(driver: Driver, ops: OrderActions) -> None:
    order = driver.place_order()
    for reason in (None, "   "):
        response = ops.restart(order.id, reason)
        assert response.status_code == 400, response.text
    assert restart_record(ops, order.id) is None


def test_a_canceled_order_is_refused_resend_and_restart_with_why_and_nothing_is_sent(
    stack: Stack, driver: Driver, ops: OrderActions
) -> None:
    # Its process completed, then staff canceled it: no process runs that could change it meanwhile.
    order = driver.place_order()
    driver.wait_for_status(order.id)
    driver.admin.post(f"/admin/orders/{order.id}/cancel")
    before = driver.metadata(order.id)
    sent = f"msg_order_placed_{order.id}: delivered"
    sent_before = len(log_lines(stack.group.get("medusa").log_path, sent))

    resend = ops.resend(order.id)
    restart = ops.restart(order.id, REASON)

    assert resend.status_code == 409, resend.text
    assert resend.json()["message"] == (
        "This order is canceled, so it gets no fulfillment process. To fulfil its items after all, "
        "create a new order. Nothing was sent."
    )
    assert restart.status_code == 409, restart.text
    assert restart.json()["message"].startswith("This order is canceled, so it gets no fulfillment process.")
    assert len(log_lines(stack.group.get("medusa").log_path, sent)) == sent_before
    assert driver.metadata(order.id) == before
    assert restart_record(ops, order.id) is None


def test_without_camunda_the_restart_refuses_and_changes_nothing(
    stack: Stack, driver: Driver, ops: OrderActions
) -> None:
    with no_worker(stack):
        order = driver.place_order()
        instance = active_instance(driver, order.id)
        cancel_instance(stack, instance["key"])
        stack.stop_part("engine")
        try:
            refused = ops.restart(order.id, REASON)
            shown = ops.actions(order.id).json()
        finally:
            stack.start_engine()
        assert refused.status_code == 503, refused.text
        assert "Camunda cannot be reached" in refused.json()["message"]
        assert "Nothing was restarted" in refused.json()["message"]
        assert shown["camunda_problem"].startswith("Camunda cannot be reached")
        assert shown["restart"]["offer"] == "hidden"
        assert restart_record(ops, order.id) is None
        assert [i["state"] for i in driver.instances(order.id)] == ["TERMINATED"]


def test_an_incident_is_shown_and_retried_from_the_admin_and_the_order_completes(
    stack: Stack, driver: Driver, ops: OrderActions
) -> None:
    with no_worker(stack):
        order = driver.place_order()
        instance = active_instance(driver, order.id)
        job_key = fail_job_without_retries(stack, order.id, "verify-payment", OUTAGE)
        poll(
            lambda: bool(ops.actions(order.id).json()["incidents"]),
            30,
            lambda: f"the incident to show: {ops.actions(order.id).json()}",
        )
        [incident] = ops.actions(order.id).json()["incidents"]
        assert incident["message"] == OUTAGE
        assert incident["element_id"] == "VerifyPayment"
        assert incident["error_type"] == "JOB_NO_RETRIES"
        assert incident["process_instance_key"] == str(instance["key"])
        assert incident["created_at"]
        assert job_key

        retried = ops.retry(order.id, incident["incident_key"])
        assert retried.status_code == 200, retried.text
        assert retried.json()["retry"]["by"] == ops.me()["id"]
        assert ops.actions(order.id).json()["incidents"] == []
        again = ops.retry(order.id, incident["incident_key"])
        assert again.status_code == 404, again.text

    metadata = driver.wait_for_status(order.id, timeout=90)
    assert metadata["workflow_status"] == "completed", metadata
    last_retry = ops.actions(order.id).json()["last_retry"]
    assert last_retry["incident_key"] == incident["incident_key"]
    assert last_retry["by_email"] == stack.admin_login.email
    assert len(driver.instances(order.id)) == 1
