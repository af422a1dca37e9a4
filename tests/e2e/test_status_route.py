"""The plugin's status route, called directly and signed as the status function calls it (docs/contracts.md).

Every order here is placed while the webhook refuses the subscriber (`guarded_webhook`), so no process
writes to it: the calls below are its only workflow writers.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
from typing import Any

import httpx
import pytest

from devstack.postgres import find_bin_dir
from fulfillment.signatures import sign_headers

from .support import Driver, GuardedWebhook, log_lines, poll

pytestmark = pytest.mark.e2e

STARTED = {
    "workflow_status": "awaiting_payment",
    "workflow_instance": "2251799813699999",
    "workflow_message": "picked up",
    "last_updated": "2026-11-29T08:00:00+00:00",
}


def route(order_id: str) -> str:
    return f"/fulfillment-workflow/orders/{order_id}/status"


def write(driver: Driver, order_id: str, body: Any) -> httpx.Response:
    """A status write signed as the status function signs it; a dict body names its route and order."""
    if isinstance(body, dict):
        body = {"action": "status", "order_id": order_id, **body}
    assert driver.stack.secrets is not None
    raw = json.dumps(body).encode()
    headers = {**sign_headers(driver.stack.secrets.medusa_status, raw), "content-type": "application/json"}
    return driver.http.post(driver.stack.medusa_url + route(order_id), content=raw, headers=headers)


def test_first_write_applies_and_keeps_every_other_key(
    driver: Driver, guarded_webhook: GuardedWebhook
) -> None:
    order = guarded_webhook.place_order(driver)
    driver.admin.post(
        f"/admin/orders/{order.id}", {"metadata": {"gift_note": "Happy birthday", "erp": {"id": 7}}}
    )

    answer = write(driver, order.id, {"metadata": STARTED, "replaces": [None]})

    assert answer.status_code == 200, answer.text
    assert answer.json() == {"applied": True, "reason": None, "metadata": STARTED}
    assert driver.metadata(order.id) == {"gift_note": "Happy birthday", "erp": {"id": 7}, **STARTED}


def test_a_write_whose_expectation_fails_is_stale_and_changes_nothing(
    driver: Driver, guarded_webhook: GuardedWebhook
) -> None:
    order = guarded_webhook.place_order(driver)
    write(driver, order.id, {"metadata": STARTED, "replaces": [None]})
    completed = {**STARTED, "workflow_status": "completed", "workflow_message": "done"}
    assert write(driver, order.id, {"metadata": completed, "replaces": ["awaiting_payment"]}).json()[
        "applied"
    ]

    late = write(
        driver,
        order.id,
        {
            "metadata": {**STARTED, "workflow_status": "payment_verified"},
            "replaces": [None, "awaiting_payment"],
        },
    )

    assert late.status_code == 200
    assert late.json() == {"applied": False, "reason": "stale", "metadata": completed}
    assert driver.metadata(order.id)["workflow_status"] == "completed"


def test_a_canceled_order_is_not_written(driver: Driver, guarded_webhook: GuardedWebhook) -> None:
    order = guarded_webhook.place_order(driver)
    write(driver, order.id, {"metadata": STARTED, "replaces": [None]})
    driver.admin.post(f"/admin/orders/{order.id}/cancel")

    answer = write(
        driver,
        order.id,
        {"metadata": {**STARTED, "workflow_status": "completed"}, "replaces": [None, "awaiting_payment"]},
    )

    assert answer.json() == {"applied": False, "reason": "order_canceled", "metadata": STARTED}


def test_a_status_write_wakes_no_order_updated_subscriber(
    driver: Driver, guarded_webhook: GuardedWebhook
) -> None:
    order = guarded_webhook.place_order(driver)
    medusa_log = driver.stack.group.get("medusa").log_path
    received = f"order.updated received for {order.id}"

    assert write(driver, order.id, {"metadata": STARTED, "replaces": [None]}).json()["applied"]
    # The control: the Admin API's own metadata update does reach the demo shop's subscriber.
    driver.admin.post(f"/admin/orders/{order.id}", {"metadata": {"gift_note": "Happy birthday"}})
    poll(lambda: bool(log_lines(medusa_log, received)), 30, lambda: "the Admin API's order.updated")

    assert len(log_lines(medusa_log, received)) == 1, "the status route emitted order.updated"


def test_unknown_order_is_404(driver: Driver) -> None:
    answer = write(driver, "order_01UNKNOWNUNKNOWNUNKNOWN0", {"metadata": STARTED, "replaces": [None]})

    assert answer.status_code == 404
    assert "order_01UNKNOWNUNKNOWNUNKNOWN0" in answer.json()["message"]


MALFORMED: list[Any] = [
    {"metadata": STARTED},
    {"replaces": [None]},
    {"metadata": {**STARTED, "gift_note": "not a workflow key"}, "replaces": [None]},
    {"metadata": {"workflow_message": "no status"}, "replaces": [None]},
    {"metadata": {**STARTED, "workflow_status": {"nested": True}}, "replaces": [None]},
    {"metadata": STARTED, "replaces": "awaiting_payment"},
    {"metadata": STARTED, "replaces": [None], "extra": 1},
    ["awaiting_payment"],
]


def test_malformed_bodies_are_400_and_write_nothing(driver: Driver, guarded_webhook: GuardedWebhook) -> None:
    order = guarded_webhook.place_order(driver)

    for body in MALFORMED:
        answer = write(driver, order.id, body)
        assert answer.status_code == 400, f"{body}: {answer.status_code} {answer.text}"

    assert "workflow_status" not in driver.metadata(order.id)


def test_without_a_signature_is_401(driver: Driver) -> None:
    order_id = "order_01UNKNOWNUNKNOWNUNKNOWN0"
    answer = httpx.post(
        driver.stack.medusa_url + route(order_id),
        json={"action": "status", "order_id": order_id, "metadata": STARTED, "replaces": [None]},
        timeout=30,
    )

    assert answer.status_code == 401


class CancelInFlight:
    """Medusa's cancel of an order caught half way: its transaction has marked the order canceled (the
    order module's `cancel` runs this very UPDATE) and has not committed yet. A psql session holds it open,
    so a status write can be made to meet the cancel at exactly that moment, with no timing involved."""

    APP = "cancel-in-flight"

    def __init__(self, driver: Driver, order_id: str) -> None:
        assert re.fullmatch(r"order_[A-Za-z0-9]+", order_id), order_id  # inlined in the SQL below
        self.driver = driver
        self.session = subprocess.Popen(
            [str(find_bin_dir() / "psql"), driver.stack.postgres_url, "-v", "ON_ERROR_STOP=1", "-q"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "PGAPPNAME": self.APP},
        )
        self._send(
            "BEGIN;\n"
            f"""UPDATE "order" SET status = 'canceled', canceled_at = now() WHERE id = '{order_id}';\n"""
            # A marker the test can see in pg_stat_activity once the UPDATE ran.
            "SELECT 'cancel holds the order';\n"
        )
        poll(
            self._holds_the_order,
            30,
            lambda: f"the cancel of {order_id} to hold the order's row",
        )

    def blocks_someone(self) -> bool:
        """Whether another session waits for the cancel's lock on the order."""
        return (
            self._count(
                "FROM pg_stat_activity AS waiting, pg_stat_activity AS cancel "
                f"WHERE cancel.application_name = '{self.APP}' "
                "AND cancel.pid = ANY(pg_blocking_pids(waiting.pid))"
            )
            > 0
        )

    def commit(self) -> None:
        self._send("COMMIT;\n")
        assert self.session.stdin is not None
        self.session.stdin.close()
        assert self.session.wait(timeout=30) == 0

    def _holds_the_order(self) -> bool:
        return (
            self._count(
                f"FROM pg_stat_activity WHERE application_name = '{self.APP}' "
                "AND state = 'idle in transaction' AND query LIKE '%cancel holds the order%'"
            )
            == 1
        )

    def _send(self, sql: str) -> None:
        assert self.session.stdin is not None
        self.session.stdin.write(sql)
        self.session.stdin.flush()

    def _count(self, rows: str) -> int:
        result = subprocess.run(
            [str(find_bin_dir() / "psql"), self.driver.stack.postgres_url, "-tAc", f"SELECT count(*) {rows}"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        return int(result.stdout.strip())


def test_a_cancel_that_lands_between_the_read_and_the_write_refuses_the_write(
    driver: Driver, guarded_webhook: GuardedWebhook
) -> None:
    # The route reads the order (open), then writes. Staff's cancel has changed the order's row by then
    # and commits while the write runs: the write's own check of the order must see the cancel.
    order = guarded_webhook.place_order(driver)
    write(driver, order.id, {"metadata": STARTED, "replaces": [None]})
    verified = {**STARTED, "workflow_status": "payment_verified", "workflow_message": "paid"}
    cancel = CancelInFlight(driver, order.id)
    answers: list[httpx.Response] = []
    sender = threading.Thread(
        target=lambda: answers.append(
            write(driver, order.id, {"metadata": verified, "replaces": ["awaiting_payment"]})
        )
    )
    try:
        sender.start()
        poll(
            lambda: bool(answers) or cancel.blocks_someone(),
            30,
            lambda: "the status write to answer or to wait for the cancel",
        )
        assert not answers, f"written while the order's cancel was under way: {answers[0].text}"
    finally:
        cancel.commit()
        sender.join(timeout=60)

    assert answers[0].status_code == 200, answers[0].text
    assert answers[0].json() == {"applied": False, "reason": "order_canceled", "metadata": STARTED}
    assert driver.metadata(order.id)["workflow_status"] == "awaiting_payment"
