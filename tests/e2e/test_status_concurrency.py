"""Two status functions writing conflicting statuses of one order at the same moment never move it back.

Each trial resets the order to `awaiting_payment`, then sends two conflicting reports at once, each
through its own status_update process (as Cloud Functions scale out) against the real Medusa: the
plugin's route compares and writes in one conditional statement, so the order always ends at the terminal
or higher-ranked status, whatever the interleaving, and its metadata mirrors that status once both
answered.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from devstack.parts import free_port
from devstack.stack import Stack
from fulfillment.signatures import sign_headers

from .support import Driver, GuardedWebhook, status_update

pytestmark = pytest.mark.e2e

TRIALS = 50
# (lower, winner): the order must end at the winner whichever report lands first.
CONFLICTS = [
    ("inventory_reserved", "completed"),
    ("payment_verified", "completed"),
    ("payment_verified", "inventory_reserved"),
    ("inventory_reserved", "out_of_stock"),
    ("payment_verified", "payment_failed"),
]


@pytest.fixture(scope="module")
def second_status_function(stack: Stack) -> Iterator[str]:
    port = free_port()
    stack.start_status_update("status_update_2", port)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        stack.stop_part("status_update_2")


def post_report(client: httpx.Client, url: str, secret: str, report: dict[str, Any]) -> httpx.Response:
    body = httpx.Request("POST", url, json=report).content
    headers = {**sign_headers(secret, body), "content-type": "application/json"}
    return client.post(url, content=body, headers=headers)


def send_together(urls: list[str], secret: str, reports: list[dict[str, Any]]) -> list[httpx.Response]:
    """Both reports leave at the same instant, each through its own status function process."""
    barrier = threading.Barrier(len(reports))
    answers: list[httpx.Response | None] = [None] * len(reports)

    def send(index: int) -> None:
        with httpx.Client(timeout=30) as client:
            barrier.wait()
            answers[index] = post_report(client, urls[index], secret, reports[index])

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(reports))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [answer for answer in answers if answer is not None]


def test_conflicting_writes_at_once_always_end_at_the_terminal_or_higher_status(
    driver: Driver, guarded_webhook: GuardedWebhook, second_status_function: str
) -> None:
    assert driver.stack.secrets is not None
    secret = driver.stack.secrets.status_update
    urls = [driver.stack.status_update_url, second_status_function]
    order = guarded_webhook.place_order(driver)
    driver.admin.post(f"/admin/orders/{order.id}", {"metadata": {"gift_note": "keep me"}})
    outcomes: list[str] = []

    for trial in range(TRIALS):
        lower, winner = CONFLICTS[trial % len(CONFLICTS)]
        # Reset in the plugin's table (the route refuses to move back, and metadata is only its mirror).
        driver.reset_workflow_status(order.id, "awaiting_payment")
        now = datetime.now(UTC)
        reports = [status_update(order.id, lower, now), status_update(order.id, winner, now)]
        if trial % 2:
            reports.reverse()  # each function sends the winner in half of the trials

        answers = send_together(urls, secret, reports)

        assert [answer.status_code for answer in answers] == [200, 200], [a.text for a in answers]
        metadata = driver.metadata(order.id)
        outcomes.append(f"{lower}/{winner} -> {metadata['workflow_status']}")
        assert metadata["workflow_status"] == winner, f"trial {trial}: {outcomes[-1]}"
        assert metadata["workflow_message"] == f"test update {winner}"
        assert metadata["gift_note"] == "keep me"
    assert len(outcomes) == TRIALS
