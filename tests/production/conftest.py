"""One production-shaped stack for the tests of this directory: Redis, a server-mode and a worker-mode
Medusa on one database, Medusa's RBAC flag on, and the cloud side as in tests/e2e.

The stack is started once for the package and stopped when its last test has run, so a whole `make test`
never holds this stack and the end-to-end one's Medusa processes up together longer than needed.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from e2e.support import Driver, GuardedWebhook, guarding_webhook, running_stack

from devstack.parts import free_port
from devstack.stack import FAST_RETRY, Stack


@pytest.fixture(scope="package")
def stack(request: pytest.FixtureRequest) -> Iterator[Stack]:
    yield from running_stack(
        "production-shaped", FAST_RETRY, lambda: bool(request.session.testsfailed), production=True
    )


@pytest.fixture
def driver(stack: Stack) -> Iterator[Driver]:
    driver = Driver(stack)
    yield driver
    driver.close()


@pytest.fixture(scope="module")
def guarded_webhook(stack: Stack) -> Iterator[GuardedWebhook]:
    """As in tests/e2e: the webhook function trusts only a secret the subscriber does not have, so orders
    placed meanwhile start nothing on their own."""
    yield from guarding_webhook(stack)


@pytest.fixture(scope="module")
def second_server(stack: Stack) -> Iterator[str]:
    """One more server-mode Medusa on the same database and Redis (a shop scaling its HTTP out); its URL.

    The worker-mode process serves no routes, so tests that must reach two different Medusa processes
    over HTTP use the stack's server and this one."""
    port = free_port()
    stack.start_medusa_server("medusa_server_2", port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stack.stop_part("medusa_server_2")
