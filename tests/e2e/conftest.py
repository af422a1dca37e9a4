"""One real stack (PostgreSQL, Medusa, engine, functions, worker) for the whole end-to-end run.

Bringing Medusa up costs about 30 s with node_modules kept (100 s from nothing), so the stack is started
once per session on free ports in a temporary run directory; every test places its own orders.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.stack import Ports, Stack, WebhookRetry, new_webhook_secret

from .support import Driver, GuardedWebhook

# Fast subscriber retries (about 60 s in all) so outage tests take seconds, not minutes, and a
# reconciliation run every 2 s for orders older than 5 s.
TEST_RETRY = WebhookRetry(
    max_attempts=40,
    base_ms=200,
    max_ms=1_500,
    timeout_ms=5_000,
    reconcile_interval_ms=2_000,
    reconcile_min_age_ms=5_000,
)


@pytest.fixture(scope="session")
def stack(request: pytest.FixtureRequest) -> Iterator[Stack]:
    run_dir = Path(tempfile.mkdtemp(prefix="e2e-stack-"))
    # PostgreSQL runs as its own system user when we are root: it must be able to enter the run dir.
    run_dir.chmod(0o755)
    stack = Stack(run_dir / "run", Ports.free(), webhook_retry=TEST_RETRY)
    with stack:
        yield stack
    if request.session.testsfailed:
        print(f"\nend-to-end run directory kept for its logs: {run_dir}")
    else:
        shutil.rmtree(run_dir, ignore_errors=True)


@pytest.fixture
def driver(stack: Stack) -> Iterator[Driver]:
    driver = Driver(stack)
    yield driver
    driver.close()


@pytest.fixture(scope="module")
def guarded_webhook(stack: Stack) -> Iterator[GuardedWebhook]:
    """For one test module the webhook function trusts only a secret the subscriber does not have.

    Orders placed meanwhile are real but start nothing on their own (the subscriber's delivery is
    refused with 401, which it does not retry), so a test decides exactly which deliveries arrive.
    """
    guarded = GuardedWebhook(stack, new_webhook_secret())
    stack.stop_part("order_webhook")
    try:
        stack.start_order_webhook({"ORDER_WEBHOOK_SECRET": guarded.secret})
        yield guarded
    finally:
        stack.stop_part("order_webhook")
        stack.start_order_webhook()
