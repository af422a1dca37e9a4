"""The admin's order actions in a real browser: Playwright (tests/browser/order-actions.spec.ts) drives
Debian's Chromium against the stack's Medusa admin, as tests/e2e/test_admin_widgets.py does.

Two real orders, prepared with the worker stopped so their processes wait at their first job: one whose
instance is canceled in the engine (as in Operate), so Camunda runs nothing for it; one whose job is failed
with no retries left, so the engine raises an incident. The browser restarts the first and retries the
second, each through its confirmation; this side checks that a new instance started for the first, and,
with the worker back, that both orders complete.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devstack.stack import Stack

from .order_actions_support import OrderActions, active_instance, cancel_instance, fail_job_without_retries
from .support import Driver, poll
from .test_admin_widgets import _run_browser_test

pytestmark = pytest.mark.e2e

INCIDENT_MESSAGE = "Medusa could not be reached for an hour"


@pytest.fixture(scope="module")
def action_orders(stack: Stack) -> Iterator[dict[str, dict[str, Any]]]:
    """The two orders, with the worker stopped until the last test starts it (or the module ends)."""
    driver = Driver(stack)
    ops = OrderActions(stack.medusa_url, stack.admin_token)
    stack.stop_part("worker")
    try:
        lost = driver.place_order()
        incident = driver.place_order()
        cancel_instance(stack, active_instance(driver, lost.id)["key"])
        active_instance(driver, incident.id)
        fail_job_without_retries(stack, incident.id, "verify-payment", INCIDENT_MESSAGE)
        poll(
            lambda: ops.actions(lost.id).json()["restart"]["offer"] == "available",
            30,
            lambda: f"the restart of {lost.id} to be offered",
        )
        poll(
            lambda: bool(ops.actions(incident.id).json()["incidents"]),
            30,
            lambda: f"the incident of {incident.id} to show",
        )
        yield {
            "lost": {"id": lost.id, "display_id": lost.display_id},
            "incident": {
                "id": incident.id,
                "display_id": incident.display_id,
                "incident_message": INCIDENT_MESSAGE,
            },
        }
    finally:
        ops.close()
        driver.close()
        if not worker_running(stack):
            stack.start_worker()


def worker_running(stack: Stack) -> bool:
    try:
        return stack.group.get("worker").is_running()
    except KeyError:
        return False


def test_restart_with_its_reason_and_confirmation_starts_a_new_process(
    stack: Stack, action_orders: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    _run_browser_test(stack, action_orders, "order actions: restart a lost process", tmp_path)

    driver = Driver(stack)
    try:
        states = sorted(i["state"] for i in driver.instances(action_orders["lost"]["id"]))
        assert states == ["ACTIVE", "TERMINATED"], states
    finally:
        driver.close()


def test_retry_of_an_incident_lets_the_process_go_on(
    stack: Stack, action_orders: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    _run_browser_test(stack, action_orders, "order actions: retry an incident", tmp_path)

    driver = Driver(stack)
    try:
        [instance] = driver.instances(action_orders["incident"]["id"])
        assert driver.engine.instance(instance["key"])["incident_count"] == 0
    finally:
        driver.close()


def test_both_orders_complete_once_a_worker_runs(
    stack: Stack, action_orders: dict[str, dict[str, Any]]
) -> None:
    stack.start_worker()
    driver = Driver(stack)
    try:
        for name in ("lost", "incident"):
            metadata = driver.wait_for_status(action_orders[name]["id"], timeout=90)
            assert metadata["workflow_status"] == "completed", (name, metadata)
    finally:
        driver.close()
