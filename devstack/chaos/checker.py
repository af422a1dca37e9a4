"""The checker: after the run drained, what each order ended as, against the ends its case accepts.

Read through the parts' own interfaces: Medusa's Admin API (order status, metadata, payments with their
refunds, reservations), the demo shop's outbox (one file per mail: `<order>.<template>.json`), and the
engine's inspection API (the order's process instances, their state, incidents and history, and the
messages it holds). An order passes when one accepted end matches it in every respect; otherwise each
difference from the closest accepted end is a violation.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from devstack.admin import AdminApi, AdminApiError
from devstack.chaos.actions import patiently
from devstack.chaos.orders import CASES_BY_NAME, Expected, OrderRecord
from devstack.engine_view import EngineView
from fulfillment.workflow import CANCELED_MESSAGE_NAME, WorkflowStatus

TERMINAL = frozenset(status.value for status in WorkflowStatus if status.terminal)
ORDER_FIELDS = "id,status,metadata,*items,*payment_collections.payments,*payment_collections.payments.refunds"


@dataclass
class Observed:
    workflow: str | None
    workflow_message: str
    medusa_status: str
    payment: frozenset[str]
    reservations: int
    mails: dict[str, str]  # template -> subject and body
    instances: list[dict[str, Any]]
    cancel_reached_engine: bool

    @property
    def settled(self) -> bool:
        return self.workflow in TERMINAL and all(item["state"] != "ACTIVE" for item in self.instances)


@dataclass
class Verdict:
    record: OrderRecord
    observed: Observed | None
    problems: list[str] = field(default_factory=list)
    outcome: str = ""  # the end it matched, or what it ended as


class Inspector:
    def __init__(self, medusa_url: str, admin_token: str, engine_url: str, outbox: Path) -> None:
        self.admin = AdminApi(medusa_url, token=admin_token)
        self.engine = EngineView(engine_url)
        self.outbox = outbox

    def close(self) -> None:
        self.admin.close()
        self.engine.close()

    def canceled_messages(self) -> set[str]:
        """Order ids with an `order-canceled` message the engine still holds (Zeebe keeps a published
        message for its TTL, an hour here, whether it correlated or not)."""
        items = patiently(lambda: self.engine.client.get("/messages").json()["items"])
        return {item["correlation_key"] for item in items if item["name"] == CANCELED_MESSAGE_NAME}

    def observe(self, order_id: str, canceled_messages: set[str]) -> Observed:
        order = patiently(lambda: self.admin.order(order_id, fields=ORDER_FIELDS))
        metadata = order.get("metadata") or {}
        instances = patiently(lambda: self.engine.instances_for(order_id))
        details = [self._instance(item["key"]) for item in instances]
        heard = order_id in canceled_messages or any(
            str(event.get("element_id", "")).startswith("CanceledWhile")
            for detail in details
            for event in detail.get("history", [])
        )
        return Observed(
            workflow=metadata.get("workflow_status"),
            workflow_message=str(metadata.get("workflow_message") or ""),
            medusa_status=str(order["status"]),
            payment=payment_states(order),
            reservations=self._reservations(order),
            mails=self._mails(order_id),
            instances=details,
            cancel_reached_engine=heard,
        )

    def _instance(self, key: str) -> dict[str, Any]:
        return patiently(lambda: self.engine.instance(key))

    def _reservations(self, order: dict[str, Any]) -> int:
        line_items = [item["id"] for item in order.get("items") or []]
        if not line_items:
            return 0
        answer = patiently(lambda: self.admin.get("/admin/reservations", line_item_id=line_items))
        return len(answer["reservations"])

    def _mails(self, order_id: str) -> dict[str, str]:
        mails = {}
        for path in self.outbox.glob(f"{order_id}.*.json"):
            template = path.name.removeprefix(f"{order_id}.").removesuffix(".json")
            document = json.loads(path.read_text())
            mails[template] = f"{document.get('subject', '')}\n{document.get('body', '')}"
        return mails


def payment_states(order: dict[str, Any]) -> frozenset[str]:
    """Each payment of the order as one word: refunded, captured, canceled or authorized ("none": none)."""
    states = set()
    for collection in order.get("payment_collections") or []:
        for payment in collection.get("payments") or []:
            if any(float(refund.get("amount") or 0) > 0 for refund in payment.get("refunds") or []):
                states.add("refunded")
            elif payment.get("captured_at"):
                states.add("captured")
            elif payment.get("canceled_at"):
                states.add("canceled")
            else:
                states.add("authorized")
    return frozenset(states or {"none"})


def differences(expected: Expected, seen: Observed) -> list[str]:
    """Every way the order's end differs from this accepted end."""
    problems = []
    if seen.workflow != expected.workflow:
        problems.append(f"workflow status {seen.workflow!r}, expected {expected.workflow!r}")
    if expected.message_contains and expected.message_contains not in seen.workflow_message:
        problems.append(f"workflow message {seen.workflow_message!r} lacks {expected.message_contains!r}")
    if seen.medusa_status != expected.medusa_status:
        problems.append(f"Medusa order status {seen.medusa_status!r}, expected {expected.medusa_status!r}")
    if not seen.payment <= expected.payment:
        problems.append(f"payment {sorted(seen.payment)}, expected {sorted(expected.payment)}")
    kept = seen.reservations > 0
    if kept != (expected.reservations == "kept"):
        problems.append(f"{seen.reservations} reservation(s), expected them {expected.reservations}")
    if sorted(seen.mails) != sorted(expected.mails):
        problems.append(f"mails {sorted(seen.mails)}, expected {sorted(expected.mails)}")
    for template, text in seen.mails.items():
        missing = [words for words in expected.words if words not in text]
        if template in expected.mails and missing:
            problems.append(f"mail {template} lacks {missing}")
    problems += _instance_problems(seen.instances, expected.instances)
    if expected.cancel_reached_engine and not seen.cancel_reached_engine:
        problems.append("staff canceled it, but no order-canceled message reached the engine")
    return problems


def _instance_problems(instances: list[dict[str, Any]], expected: int) -> list[str]:
    if len(instances) != expected:
        return [f"{len(instances)} process instances, expected {expected}"]
    if not instances:
        return []
    (instance,) = instances
    problems = []
    if instance["state"] != "COMPLETED":
        problems.append(f"process instance {instance['key']} is {instance['state']}")
    if instance.get("incident_count"):
        problems.append(
            f"process instance {instance['key']} has {instance['incident_count']} open incident(s)"
        )
    return problems


def judge(record: OrderRecord, seen: Observed) -> Verdict:
    accepted = CASES_BY_NAME[record.case].expect(record)
    ranked = [(differences(expected, seen), expected) for expected in accepted]
    problems, closest = min(ranked, key=lambda item: len(item[0]))
    if problems:
        return Verdict(record, seen, problems, f"ended {seen.workflow}, Medusa {seen.medusa_status}")
    return Verdict(record, seen, [], _outcome(closest))


def _outcome(expected: Expected) -> str:
    mails = ", ".join(expected.mails) or "no mail"
    return f"{expected.workflow} (Medusa {expected.medusa_status}, {mails})"


# Mails and cancels can land just after an order's terminal status: the last look waits for two looks in a row
# to agree.
QUIET_LOOK_INTERVAL_SECONDS = 1.0
QUIET_LOOK_TIMEOUT_SECONDS = 30.0


def drain(
    inspector: Inspector, records: list[OrderRecord], timeout: float, say: Callable[[str], None]
) -> dict[str, Observed]:
    """Waits, at most `timeout` seconds, until every order has a terminal status and no active instance;
    returns what was observed last of each."""
    deadline = time.monotonic() + timeout
    pending = {record.order_id for record in records if record.order_id}
    observed: dict[str, Observed] = {}
    while True:
        messages = inspector.canceled_messages()
        for order_id in sorted(pending):
            try:
                observed[order_id] = inspector.observe(order_id, messages)
            except (httpx.HTTPError, AdminApiError):
                continue
        pending = {
            order_id for order_id in pending if not (observed.get(order_id) and observed[order_id].settled)
        }
        if not pending or time.monotonic() > deadline:
            break
        say(f"draining: {len(pending)} order(s) not settled yet")
        time.sleep(3)
    return quiet_look(inspector, list(observed), deadline=time.monotonic() + QUIET_LOOK_TIMEOUT_SECONDS)


def quiet_look(inspector: Inspector, order_ids: list[str], deadline: float) -> dict[str, Observed]:
    """The last look at every order, once two looks in a row agree (mails and cancels may land after the
    terminal status), or at the deadline."""
    last: dict[str, Observed] | None = None
    while True:
        messages = inspector.canceled_messages()
        looked = {order_id: inspector.observe(order_id, messages) for order_id in order_ids}
        if looked == last or time.monotonic() > deadline:
            return looked
        last = looked
        time.sleep(QUIET_LOOK_INTERVAL_SECONDS)


def check(records: list[OrderRecord], observed: dict[str, Observed]) -> list[Verdict]:
    verdicts = []
    for record in records:
        if not record.order_id:
            verdicts.append(Verdict(record, None, [], f"not placed: {record.error}"))
        elif record.error:
            verdicts.append(
                Verdict(record, observed.get(record.order_id), [], f"not checked: {record.error}")
            )
        else:
            verdicts.append(judge(record, observed[record.order_id]))
    return verdicts
