"""The plugin's admin routes with Medusa's RBAC feature flag off (the stack's Medusa) and on (a second
Medusa on the same database, started with MEDUSA_FF_RBAC=true after migrating with it).

With the flag on, Medusa checks the policies a route declares against the roles in the user's token: the
plugin's routes ask for `order:read` (the workflow panel, its actions' view, the summary, the config)
and `order:update` (resend, restart, incident retry). A user without roles is refused them, a role with
`order:read` only may read but not act, and a super admin (`medusa user` with the flag on) may do
everything.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from devstack.admin import AdminApi
from devstack.medusa import AdminLogin, admin_jwt, medusa_cli
from devstack.parts import free_port
from devstack.plugin import BACKEND_DIR
from devstack.processes import wait_until
from devstack.stack import Stack, new_admin_password

from .plugin_support import PluginRoutes

pytestmark = pytest.mark.e2e

START_TIMEOUT_SECONDS = 180
CLI_TIMEOUT_SECONDS = 300
RBAC_FLAG = {"MEDUSA_FF_RBAC": "true"}
# The second Medusa serves requests only: one reconciliation job (the stack's) is enough.
NO_RECONCILIATION = {"FULFILLMENT_WORKFLOW_OPTIONS": json.dumps({"reconciliation": {"enabled": False}})}


@dataclass(frozen=True)
class RbacMedusa:
    url: str
    super_admin: AdminLogin
    without_roles: AdminLogin


def run_cli(env: dict[str, str], *args: str) -> None:
    result = subprocess.run(
        [str(medusa_cli()), *args],
        cwd=BACKEND_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_SECONDS,
        check=False,
    )
    assert result.returncode == 0, f"medusa {args[0]}: {(result.stdout + result.stderr)[-3000:]}"


@pytest.fixture(scope="module")
def rbac_medusa(stack: Stack) -> Iterator[RbacMedusa]:
    flag_off = stack.medusa_env()
    flag_on = {**flag_off, **RBAC_FLAG, **NO_RECONCILIATION}
    run_cli(flag_on, "db:migrate")
    super_admin = AdminLogin("rbac-super-admin@example.com", new_admin_password())
    without_roles = AdminLogin("rbac-no-roles@example.com", new_admin_password())
    # With the flag on, `medusa user` gives the new user Medusa's super admin role; without it, no role.
    run_cli(flag_on, "user", "-e", super_admin.email, "-p", super_admin.password)
    run_cli(flag_off, "user", "-e", without_roles.email, "-p", without_roles.password)
    port = free_port()
    argv = [str(medusa_cli()), "start", "-H", "127.0.0.1", "-p", str(port)]
    process = stack.group.start("medusa_rbac", argv, flag_on, cwd=BACKEND_DIR)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _healthy(url), START_TIMEOUT_SECONDS, "the Medusa with RBAC on", process)
        yield RbacMedusa(url, super_admin, without_roles)
    finally:
        stack.stop_part("medusa_rbac")


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="module")
def order_id(stack: Stack) -> str:
    routes = PluginRoutes(stack)
    try:
        return routes.place_order().id
    finally:
        routes.close()


def admin_routes(order_id: str) -> dict[str, tuple[str, str, dict[str, str] | None]]:
    orders = "/admin/fulfillment-workflow/orders"
    return {
        "order": ("GET", f"{orders}/{order_id}", None),
        "summary": ("GET", "/admin/fulfillment-workflow/summary", None),
        "config": ("GET", "/admin/fulfillment-workflow/config", None),
        "resend": ("POST", f"{orders}/{order_id}/resend", None),
        "actions": ("GET", f"{orders}/{order_id}/actions", None),
        "restart": ("POST", f"{orders}/{order_id}/restart", {"reason": "checking the policies"}),
        # No such incident: past the policy, the route answers 404.
        "retry": ("POST", f"{orders}/{order_id}/incidents/1/retry", None),
    }


def answers(url: str, token: str, order_id: str) -> dict[str, httpx.Response]:
    headers = {"authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
        return {
            name: client.request(method, path, json=body)
            for name, (method, path, body) in admin_routes(order_id).items()
        }


def login(url: str, user: AdminLogin) -> str:
    token = admin_jwt(url, user)
    assert token is not None, f"{user.email} cannot log in"
    return token


# The order's process runs or has ended, so a restart is refused (409) and there is no incident to retry.
ACTION_REFUSALS = {"restart": 409, "retry": 404}


def assert_all_work(found: dict[str, httpx.Response], order_id: str) -> None:
    statuses = {name: response.status_code for name, response in found.items()}
    expected = {**dict.fromkeys(found, 200), **ACTION_REFUSALS}
    assert statuses == expected, {name: r.text[:300] for name, r in found.items()}
    assert found["actions"].json()["camunda_problem"] is None
    assert found["order"].json()["workflow"]["order_id"] == order_id
    assert {"failed", "stalled"} <= set(found["summary"].json())
    assert found["config"].json()["webhook_configured"] is True
    assert found["resend"].json() == {"order_id": order_id, "status": found["resend"].json()["status"]}
    assert found["resend"].json()["status"] in {"started", "duplicate"}


def test_with_rbac_off_every_admin_works_the_admin_routes(stack: Stack, order_id: str) -> None:
    assert_all_work(answers(stack.medusa_url, stack.admin_token, order_id), order_id)


def test_with_rbac_on_a_super_admin_works_the_admin_routes(rbac_medusa: RbacMedusa, order_id: str) -> None:
    token = login(rbac_medusa.url, rbac_medusa.super_admin)

    assert_all_work(answers(rbac_medusa.url, token, order_id), order_id)


def test_with_rbac_on_the_admin_routes_ask_for_the_order_policies(
    rbac_medusa: RbacMedusa, order_id: str
) -> None:
    url = rbac_medusa.url
    without_roles = answers(url, login(url, rbac_medusa.without_roles), order_id)
    assert {name: r.status_code for name, r in without_roles.items()} == dict.fromkeys(without_roles, 403)

    _grant_order_read(url, login(url, rbac_medusa.super_admin), rbac_medusa.without_roles.email)
    reader = answers(url, login(url, rbac_medusa.without_roles), order_id)

    statuses = {name: response.status_code for name, response in reader.items()}
    assert statuses == {
        "order": 200,
        "summary": 200,
        "config": 200,
        "resend": 403,
        "actions": 200,
        "restart": 403,
        "retry": 403,
    }, statuses
    for name in ("resend", "restart", "retry"):
        assert "order:update" in reader[name].json()["message"]


def _grant_order_read(url: str, super_admin_token: str, email: str) -> None:
    """A role with Medusa's `order:read` policy only, given to the user (through Medusa's RBAC admin API)."""
    with AdminApi(url, token=super_admin_token) as admin:
        (policy,) = admin.get("/admin/rbac/policies", resource="order", operation="read")["policies"]
        role = admin.post("/admin/rbac/roles", {"name": "Order reader", "policy_ids": [policy["id"]]})["role"]
        (user,) = admin.get("/admin/users", email=email)["users"]
        admin.post(f"/admin/rbac/roles/{role['id']}/users", {"users": [user["id"]]})
