"""The plugin's admin widgets in a real browser: Playwright (tests/browser) drives Debian's Chromium against
the stack's Medusa admin, logged in as the stack's admin user.

The orders are real: one completed, one that failed for a real cause (its stock reservation was deleted
before the process checked it), one that never reached the workflow (its webhook was refused) and was
placed two hours ago, beyond the reconciliation job's lookback, so only "Resend to workflow" can start it;
one placed and backdated the same way and then canceled by staff, a draft order as old, and a converted
draft order the workflow waits to see paid. Each test runs one browser test of
tests/browser/order-workflow.spec.ts, which checks what a person sees and which requests the widgets make;
this side checks what the engine and the order's metadata say afterwards. The tests run in file order:
the last one starts the process of the order that had none.

One test runs the widgets in a dashboard built as a shop that chose JWT auth builds it (ADMIN_AUTH_TYPE=jwt,
ADMIN_JWT_TOKEN_STORAGE_KEY): Playwright serves that build at /app in place of the stack's session one.

`make admin-screenshots` runs them with ADMIN_SCREENSHOT_DIR=docs to redraw the pictures in the READMEs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from devstack.medusa import ADMIN_BUILD_TIMEOUT_SECONDS, dependencies_fingerprint, medusa_cli
from devstack.plugin import BACKEND_DIR, exclusive
from devstack.shop import PlacedOrder
from devstack.stack import Stack

from .support import Driver, GuardedWebhook, order_placed_body

pytestmark = pytest.mark.e2e

BROWSER_TESTS = Path(__file__).resolve().parents[1] / "browser"
PLAYWRIGHT_TIMEOUT_SECONDS = 600
# Not the SDK's default key: the widgets must find the token where this dashboard keeps it.
JWT_TOKEN_STORAGE_KEY = "shop_admin_jwt"
# Kept between runs (node_modules is never committed): built again when the plugin or packages change.
JWT_ADMIN_BUILDS = BACKEND_DIR / "node_modules" / ".admin-jwt-builds"


@pytest.fixture(scope="module")
def admin_orders(stack: Stack, guarded_webhook: GuardedWebhook) -> Iterator[dict[str, dict[str, Any]]]:
    driver = Driver(stack)
    try:
        failed = guarded_webhook.place_order(driver)
        assert driver.delete_reservations(failed.id) >= 1
        body = order_placed_body(failed.id)
        started = driver.post_webhook(body, guarded_webhook.headers(body))
        assert started.json()["status"] == "started", started.text
        unstarted = guarded_webhook.place_order(driver)
        driver.backdate_order(unstarted.id, hours=2)
        canceled = guarded_webhook.place_order(driver)
        driver.backdate_order(canceled.id, hours=2)
        driver.admin.post(f"/admin/orders/{canceled.id}/cancel")
        draft = _draft_order(driver)
        driver.backdate_order(draft.id, hours=2)
        guarded_webhook.lift()
        completed = driver.place_order()
        awaiting = driver.convert_draft_order()

        awaiting_display_id = driver.admin.order(awaiting)["display_id"]
        awaiting_metadata = driver.wait_for_status(awaiting, {"awaiting_payment"})

        orders = {
            "completed": (completed.id, completed.display_id, driver.wait_for_status(completed.id)),
            "failed": (failed.id, failed.display_id, driver.wait_for_status(failed.id)),
            "unstarted": (unstarted.id, unstarted.display_id, driver.metadata(unstarted.id)),
            # The reconciliation delivers its cancel once the webhook takes it, and records it canceled.
            "canceled": (canceled.id, canceled.display_id, driver.wait_for_status(canceled.id, {"canceled"})),
            "draft": (draft.id, draft.display_id, {}),
            "awaiting": (awaiting, awaiting_display_id, awaiting_metadata),
        }
        assert orders["completed"][2]["workflow_status"] == "completed"
        assert orders["failed"][2]["workflow_status"] == "out_of_stock"
        assert driver.admin.order(canceled.id)["status"] == "canceled"
        yield {
            name: {
                "id": order_id,
                "display_id": display_id,
                "status": metadata.get("workflow_status"),
                "message": metadata.get("workflow_message"),
            }
            for name, (order_id, display_id, metadata) in orders.items()
        }
    finally:
        driver.close()


def _draft_order(driver: Driver) -> PlacedOrder:
    """A draft order as staff start one for a phone sale, not converted: Medusa keeps it as an order with
    status `draft`."""
    draft: dict[str, Any] = driver.admin.post(
        "/admin/draft-orders",
        {
            "email": "draft@example.com",
            "region_id": driver.seed.region_id,
            "sales_channel_id": driver.seed.sales_channel_id,
            "items": [{"variant_id": driver.seed.variant_id, "quantity": 1}],
        },
    )["draft_order"]
    assert draft["status"] == "draft", draft
    return PlacedOrder(draft["id"], draft["display_id"], draft["email"], float(draft["total"]), "")


@pytest.fixture(scope="module")
def jwt_admin_build(stack: Stack) -> Path:
    """Medusa's dashboard with the plugin's widgets, built as a shop that chose JWT auth builds it: Medusa's
    admin bundler reads ADMIN_AUTH_TYPE and ADMIN_JWT_TOKEN_STORAGE_KEY at build time."""
    target = JWT_ADMIN_BUILDS / dependencies_fingerprint()
    # The stack's own admin build and this one both write medusa/backend/.medusa/admin: one at a time.
    with exclusive(BACKEND_DIR / "node_modules" / ".admin-build.lock"):
        if (target / "index.html").exists():
            return target
        env = {
            **stack.medusa_env(),
            "ADMIN_AUTH_TYPE": "jwt",
            "ADMIN_JWT_TOKEN_STORAGE_KEY": JWT_TOKEN_STORAGE_KEY,
        }
        result = subprocess.run(
            [str(medusa_cli()), "build", "--admin-only"],
            cwd=BACKEND_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=ADMIN_BUILD_TIMEOUT_SECONDS,
            check=False,
        )
        assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
        shutil.rmtree(JWT_ADMIN_BUILDS, ignore_errors=True)
        JWT_ADMIN_BUILDS.mkdir(parents=True)
        shutil.move(BACKEND_DIR / ".medusa" / "admin", target)
    return target


def _run_browser_test(
    stack: Stack,
    orders: dict[str, dict[str, Any]],
    title: str,
    output_dir: Path,
    extra_env: dict[str, str] | None = None,
) -> None:
    """Runs the one Playwright test named `title`; fails with Playwright's report when it fails."""
    playwright = BROWSER_TESTS / "node_modules" / ".bin" / "playwright"
    if not playwright.exists():
        pytest.fail(f"{playwright} is missing: run `make setup` (it runs `npm ci` in tests/browser)")
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("Chromium is missing: run `make browser` (Debian's chromium package)")
    login = stack.admin_login
    env = {
        **os.environ,
        "CHROMIUM": chromium,
        "MEDUSA_URL": stack.medusa_url,
        "ADMIN_EMAIL": login.email,
        "ADMIN_PASSWORD": login.password,
        "ADMIN_TEST_ORDERS": json.dumps(orders),
        "PLAYWRIGHT_OUTPUT_DIR": str(output_dir),
        **(extra_env or {}),
    }
    result = subprocess.run(
        # Playwright matches --grep against "file title"; the titles are plain words, no regex characters.
        [str(playwright), "test", "--grep", f"{title}$"],
        cwd=BROWSER_TESTS,
        env=env,
        capture_output=True,
        text=True,
        timeout=PLAYWRIGHT_TIMEOUT_SECONDS,
        check=False,
    )
    report = result.stdout[-6000:] + result.stderr[-3000:]
    assert result.returncode == 0, f"{report}\n(traces and screenshots of failures in {output_dir})"
    assert "1 passed" in result.stdout, report


def test_order_page_shows_a_completed_workflow_and_reads_it_once(
    stack: Stack, admin_orders: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    _run_browser_test(stack, admin_orders, "order page: completed order", tmp_path)


def test_order_page_shows_where_a_workflow_failed(
    stack: Stack, admin_orders: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    _run_browser_test(stack, admin_orders, "order page: failed order", tmp_path)


def test_order_page_of_a_canceled_order_offers_no_resend_and_stops_reading(
    stack: Stack, admin_orders: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    _run_browser_test(stack, admin_orders, "order page: canceled order", tmp_path)


def test_order_page_of_an_unpaid_order_says_until_when_and_reads_slowly(
    stack: Stack, admin_orders: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    _run_browser_test(stack, admin_orders, "order page: awaiting payment", tmp_path)


def test_order_page_backs_off_after_errors(
    stack: Stack, admin_orders: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    _run_browser_test(stack, admin_orders, "order page: backoff after errors", tmp_path)


def test_orders_list_counts_and_links_failed_and_stalled_orders_but_no_canceled_or_draft(
    stack: Stack, admin_orders: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    _run_browser_test(stack, admin_orders, "orders list: failed and stalled orders", tmp_path)


def test_summary_route_reads_a_bounded_page_of_open_orders(
    stack: Stack, driver: Driver, admin_orders: dict[str, dict[str, Any]]
) -> None:
    summary = driver.admin.get("/admin/fulfillment-workflow/summary", limit=5)
    assert summary["limit"] == 5
    assert summary["checked"] <= 5
    listed = {entry["id"] for entry in summary["failed"] + summary["stalled"]}
    assert admin_orders["canceled"]["id"] not in listed
    assert admin_orders["draft"]["id"] not in listed
    assert driver.admin.get("/admin/fulfillment-workflow/summary")["limit"] == 100

    too_many = httpx.get(
        f"{stack.medusa_url}/admin/fulfillment-workflow/summary",
        params={"limit": 1000},
        headers={"authorization": f"Bearer {stack.admin_token}"},
        timeout=30,
    )
    assert too_many.status_code == 400, too_many.text


def test_widgets_send_the_dashboards_session(
    stack: Stack, admin_orders: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    _run_browser_test(stack, admin_orders, "auth: the widgets send the dashboard's session", tmp_path)


def test_widgets_send_the_token_of_a_jwt_dashboard(
    stack: Stack, admin_orders: dict[str, dict[str, Any]], jwt_admin_build: Path, tmp_path: Path
) -> None:
    env = {"ADMIN_JWT_BUILD_DIR": str(jwt_admin_build), "ADMIN_JWT_TOKEN_STORAGE_KEY": JWT_TOKEN_STORAGE_KEY}
    _run_browser_test(stack, admin_orders, "auth: the widgets send the dashboard's token", tmp_path, env)


def test_resend_is_not_offered_for_an_order_with_a_process(
    stack: Stack, driver: Driver, admin_orders: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    order_id = admin_orders["completed"]["id"]
    assert len(driver.instances(order_id)) == 1
    before = driver.metadata(order_id)

    _run_browser_test(stack, admin_orders, "resend: not offered for an order with a process", tmp_path)

    assert len(driver.instances(order_id)) == 1
    assert driver.metadata(order_id) == before


def test_resend_of_an_order_without_a_process_starts_one(
    stack: Stack, driver: Driver, admin_orders: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    order_id = admin_orders["unstarted"]["id"]
    assert driver.instances(order_id) == []
    assert "workflow_status" not in driver.metadata(order_id)

    _run_browser_test(stack, admin_orders, "resend: order without a process", tmp_path)

    assert driver.wait_for_status(order_id)["workflow_status"] == "completed"
    assert len(driver.instances(order_id)) == 1
