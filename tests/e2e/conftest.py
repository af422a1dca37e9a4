"""One real stack (PostgreSQL, Medusa, engine, functions, worker) for the whole end-to-end run.

Bringing Medusa up costs about 30 s with node_modules kept (100 s from nothing), so the stack is started
once per session on free ports in a temporary run directory; every test places its own orders.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devstack.stack import FAST_RETRY, Stack

from .support import Driver, GuardedWebhook, guarding_webhook, running_stack


@pytest.fixture(scope="session")
def stack(request: pytest.FixtureRequest) -> Iterator[Stack]:
    yield from running_stack("end-to-end", FAST_RETRY, lambda: bool(request.session.testsfailed))


@pytest.fixture
def driver(stack: Stack) -> Iterator[Driver]:
    driver = Driver(stack)
    yield driver
    driver.close()


@pytest.fixture(scope="module")
def guarded_webhook(stack: Stack) -> Iterator[GuardedWebhook]:
    """For one test module the webhook function trusts only a secret the subscriber does not have
    (support.guarding_webhook)."""
    yield from guarding_webhook(stack)
