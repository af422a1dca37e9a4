"""The plugin's admin widgets in a real browser: Playwright (tests/browser) drives Debian's Chromium against
the stack's Medusa admin, logged in as the stack's admin user.

The orders are real: one completed, one that failed for a real cause (its stock reservation was deleted
before the process checked it), and one that never reached the workflow (its webhook was refused) and was
placed two hours ago, beyond the reconciliation job's lookback, so only "Resend to workflow" can start it.
Each test runs one browser test of tests/browser/order-workflow.spec.ts, which checks what a person sees;
this side checks what the engine and the order's metadata say afterwards. The tests run in file order:
the last one starts the process of the order that had none.

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

import pytest

from devstack.stack import Stack

from .support import Driver, GuardedWebhook, order_placed_body

pytestmark = pytest.mark.e2e

BROWSER_TESTS = Path(__file__).resolve().parents[1] / "browser"
PLAYWRIGHT_TIMEOUT_SECONDS = 600


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
        guarded_webhook.lift()
        completed = driver.place_order()

        orders = {
            "completed": (completed, driver.wait_for_status(completed.id)),
            "failed": (failed, driver.wait_for_status(failed.id)),
            "unstarted": (unstarted, driver.metadata(unstarted.id)),
        }
        assert orders["completed"][1]["workflow_status"] == "completed"
        assert orders["failed"][1]["workflow_status"] == "out_of_stock"
        yield {
            name: {
                "id": order.id,
                "display_id": order.display_id,
                "status": metadata.get("workflow_status"),
                "message": metadata.get("workflow_message"),
            }
            for name, (order, metadata) in orders.items()
        }
    finally:
        driver.close()


def _run_browser_test(stack: Stack, orders: dict[str, dict[str, Any]], title: str, output_dir: Path) -> None:
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


def test_order_page_shows_a_completed_workflow(
    stack: Stack, admin_orders: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    _run_browser_test(stack, admin_orders, "order page: completed order", tmp_path)


def test_order_page_shows_where_a_workflow_failed(
    stack: Stack, admin_orders: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    _run_browser_test(stack, admin_orders, "order page: failed order", tmp_path)


def test_orders_list_counts_and_links_failed_and_stalled_orders(
    stack: Stack, admin_orders: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    _run_browser_test(stack, admin_orders, "orders list: failed and stalled orders", tmp_path)


def test_resend_of_an_order_with_a_process_starts_nothing(
    stack: Stack, driver: Driver, admin_orders: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    order_id = admin_orders["completed"]["id"]
    assert len(driver.instances(order_id)) == 1
    before = driver.metadata(order_id)

    _run_browser_test(stack, admin_orders, "resend: order with a process", tmp_path)

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
