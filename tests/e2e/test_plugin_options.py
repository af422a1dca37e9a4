"""The plugin as Medusa loads it: the options the shop passes in medusa-config.ts, and a bad option stops
Medusa.

The demo shop passes the options from its environment, as a shop's medusa-config.ts does (the plugin reads
no environment itself); here the resolved options are read back through the plugin's config route, and
Medusa is started once more with bad options to see it refuse them.
"""

from __future__ import annotations

import json
import subprocess

import httpx
import pytest

from devstack.medusa import medusa_cli
from devstack.parts import free_port
from devstack.plugin import BACKEND_DIR
from devstack.processes import wait_until
from devstack.stack import FAST_RETRY, Stack
from fulfillment.medusa import MedusaClient

from .support import Driver, GuardedWebhook, log_lines, poll

pytestmark = pytest.mark.e2e

START_TIMEOUT_SECONDS = 180


def test_the_shops_options_are_resolved(stack: Stack, driver: Driver) -> None:
    config = driver.admin.get("/admin/fulfillment-workflow/config")

    assert config == {
        "operate_url": None,
        "stalled_after_minutes": 30,
        "webhook_configured": True,
        "worker_routes_enabled": True,
        "status_route_enabled": True,
        "reconciliation": {
            "enabled": True,
            "intervalMs": FAST_RETRY.reconcile_interval_ms,
            "minAgeMs": FAST_RETRY.reconcile_min_age_ms,
            "lookbackMs": 3_000_000,
        },
        "camunda": {"rest_url": stack.engine_http_url, "oauth": False},
    }


def start_with_options(stack: Stack, options: object) -> subprocess.CompletedProcess[str]:
    """`medusa start` of the demo shop with these plugin options; returns once it exits."""
    env = {**stack.medusa_env(), "FULFILLMENT_WORKFLOW_OPTIONS": json.dumps(options)}
    port = str(free_port())
    try:
        return subprocess.run(
            [str(medusa_cli()), "start", "-H", "127.0.0.1", "-p", port],
            cwd=BACKEND_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        # It kept running: it accepted the options. (run() has killed it.)
        raise AssertionError(f"Medusa started with bad options {options}") from exc


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"retry": {"maxAttempts": 0}}, "invalid option retry.maxAttempts:"),
        ({"webhookSecret": "not-a-whsec-secret"}, "invalid option webhookSecret:"),
        ({"reconcilation": {"enabled": False}}, 'Unrecognized key: "reconcilation"'),
        ({"camunda": {"restUrl": "http://c", "clientId": "a", "clientSecret": "b"}}, "camunda.tokenUrl:"),
    ],
    ids=["out-of-range", "malformed-secret", "misspelt-option", "camunda-credentials-without-token-url"],
)
def test_bad_option_stops_medusa_with_an_error_naming_it(stack: Stack, options: object, named: str) -> None:
    result = start_with_options(stack, options)

    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert named in output, output[-3000:]
    assert "not-a-whsec-secret" not in output


def test_emit_order_updated_option_wakes_the_shops_subscribers(
    stack: Stack, driver: Driver, guarded_webhook: GuardedWebhook
) -> None:
    """A second Medusa on the same database, started with `emitOrderUpdated: true`."""
    order = guarded_webhook.place_order(driver)
    port = free_port()
    env = {**stack.medusa_env(), "FULFILLMENT_WORKFLOW_OPTIONS": json.dumps({"emitOrderUpdated": True})}
    argv = [str(medusa_cli()), "start", "-H", "127.0.0.1", "-p", str(port)]
    process = stack.group.start("medusa_emitting", argv, env, cwd=BACKEND_DIR)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _healthy(url), START_TIMEOUT_SECONDS, "the second Medusa", process)
        assert stack.secrets is not None
        with MedusaClient(url, stack.secrets.medusa_status, timeout_seconds=30) as medusa:
            answer = medusa.write_status(order.id, {"workflow_status": "awaiting_payment"}, [None])
        assert answer.applied, answer
        received = f"order.updated received for {order.id}"
        poll(lambda: bool(log_lines(process.log_path, received)), 30, lambda: "order.updated from the route")
    finally:
        stack.stop_part("medusa_emitting")


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
