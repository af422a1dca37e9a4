"""The shop in its production shape: a server-mode Medusa serves HTTP, a worker-mode Medusa runs the
subscribers, both through Redis, with Medusa's RBAC flag on; an order placed in the store still ends
`completed`."""

from __future__ import annotations

import httpx
import pytest
from e2e.support import Driver, log_lines, poll

from devstack.redis import ping
from devstack.stack import Stack

pytestmark = pytest.mark.production


def test_an_order_placed_on_the_server_is_forwarded_by_the_worker_and_ends_completed(
    stack: Stack, driver: Driver
) -> None:
    order = driver.place_order()

    metadata = driver.wait_for_status(order.id, timeout=120)

    assert metadata["workflow_status"] == "completed", metadata
    delivered = f"webhook msg_order_placed_{order.id}: delivered"
    worker_log = stack.group.get("medusa_worker").log_path
    server_log = stack.group.get("medusa").log_path
    poll(lambda: bool(log_lines(worker_log, delivered)), 30, lambda: f"{delivered!r} in {worker_log}")
    assert not log_lines(server_log, delivered), "the server-mode process ran the order.placed subscriber"


def test_the_worker_serves_only_its_health_check_and_redis_holds_the_queues(stack: Stack) -> None:
    with httpx.Client(timeout=30) as client:
        assert client.get(f"{stack.medusa_worker_url}/health").status_code == 200
        # Medusa loads no routes in worker mode: the store and admin APIs are only on the server.
        assert client.get(f"{stack.medusa_worker_url}/store/regions").status_code == 404
        assert client.get(f"{stack.medusa_url}/health").status_code == 200
    assert ping(stack.ports.redis)
    assert stack.medusa_env()["REDIS_URL"] == stack.redis_url


def test_rbac_is_on_and_the_admin_created_with_it_is_a_super_admin(stack: Stack, driver: Driver) -> None:
    """With the flag off Medusa has no RBAC routes; with it on `medusa user` makes a super admin, whose
    token works Medusa's RBAC API and the plugin's admin routes (which declare RBAC policies)."""
    policies = driver.admin.get("/admin/rbac/policies", resource="order", operation="update")["policies"]
    assert [policy["operation"] for policy in policies] == ["update"]
    assert "failed" in driver.admin.get("/admin/fulfillment-workflow/summary")
