"""The seeded order mix: each case says how an order of its kind is placed and which ends are right for it.

A case places its order through Medusa's Store or Admin API the way a customer or staff would (README, "What
happens to an order"), notes what it did on the order's record (`facts`), and from those facts names the
ends it accepts (`Expected`). Where the end depends on a race the case cannot control (staff cancel while
the process runs; which of the two workers, with their two stock policies, checks the stock), every end
that is right for one side of the race is accepted, and each is checked whole: a canceled order without a
confirmation, or a completed one with it, never a mix.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from devstack.chaos.fault_proxy import FaultProxy, Request, holding
from devstack.seed import PRODUCT_PRICE, SHIPPING_PRICE

PaymentState = Literal["none", "authorized", "canceled", "captured", "refunded"]
Reservations = Literal["kept", "released"]

CONFIRMATION = "order-confirmation"
CANCELED_PAYMENT = "order-canceled-payment"
CANCELED_STOCK = "order-canceled-stock"
NOTHING_TAKEN = "No money was taken"
# The cases that hold an order's delivery back order a quantity no other case orders, so the delivery's
# total tells their orders apart.
STOCK_MISSING_QUANTITY = 3
REFUNDED_QUANTITY = 4
CANCEL_STARTING_QUANTITY = 5
# How long after staff's cancel was sent the held `order.placed` delivery is let through.
CANCEL_STARTING_RELEASE_SECONDS = (0.1, 0.4)
# What the plugin's reconciliation records on an order canceled before any step of its workflow reported
# (medusa/plugin/src/jobs/reconcile-order-events.ts).
CANCELED_BEFORE_START = "Canceled in Medusa before any step of its fulfillment workflow reported"


@dataclass(frozen=True)
class Expected:
    """One right end for an order."""

    workflow: str
    medusa_status: str
    payment: frozenset[PaymentState]
    reservations: Reservations
    mails: tuple[str, ...] = ()
    # Words each mail of the order must carry (the money sentence, the total).
    words: tuple[str, ...] = ()
    message_contains: str = ""
    # Staff canceled the order while its process could still be running: the engine must have heard of it.
    cancel_reached_engine: bool = False
    # How many process instances the order has at its end: one, or none for an order Medusa canceled
    # before its `order.placed` got through (the plugin then passes the cancel on and records it).
    instances: int = 1


@dataclass
class OrderRecord:
    """What happened to one order of the run, in the run's seconds."""

    index: int
    case: str
    order_id: str = ""
    display_id: int = 0
    total: float = 0.0
    placed_at: float = 0.0
    facts: dict[str, Any] = field(default_factory=dict)
    history: list[tuple[float, str]] = field(default_factory=list)
    error: str = ""


class Actions(Protocol):
    """What a case can do to Medusa, patiently (Medusa may be down, slow or restarting meanwhile)."""

    def place_store_order(self, quantity: int = 1) -> dict[str, Any]: ...
    def convert_draft_order(self, unit_price: float | None = None) -> dict[str, Any]: ...
    def mark_as_paid(self, order_id: str) -> None: ...
    def cancel(self, order_id: str) -> None: ...
    def capture(self, order_id: str) -> None: ...
    def delete_reservations(self, order_id: str) -> int: ...
    def refund(self, order_id: str, amount: float) -> None: ...
    def wait_for_status(self, order_id: str, statuses: set[str], timeout: float) -> str | None: ...
    def storm(self, order: dict[str, Any], copies: int) -> int: ...


@dataclass
class Context:
    actions: Actions
    webhook_proxy: FaultProxy
    now: Callable[[], float]


Place = Callable[[Context, OrderRecord, random.Random], None]


@dataclass(frozen=True)
class Case:
    name: str
    weight: int
    place: Place
    expect: Callable[[OrderRecord], list[Expected]]


def _note(ctx: Context, record: OrderRecord, what: str) -> None:
    record.history.append((round(ctx.now(), 1), what))


def _took(ctx: Context, record: OrderRecord, order: dict[str, Any]) -> None:
    record.order_id = str(order["id"])
    record.display_id = int(order.get("display_id") or 0)
    record.total = float(order.get("total") or 0)
    record.placed_at = round(ctx.now(), 1)
    _note(ctx, record, f"placed {record.order_id} (total {record.total:.2f})")


def _money(total: float) -> str:
    return f"Total: {total:.2f} EUR"


def _completed(record: OrderRecord, payment: PaymentState = "authorized", **changes: Any) -> Expected:
    base = Expected(
        workflow="completed",
        medusa_status="pending",
        payment=frozenset({payment}),
        reservations="kept",
        mails=(CONFIRMATION,),
        words=(_money(record.total),),
    )
    return Expected(**{**base.__dict__, **changes})


# Cases -------------------------------------------------------------------------------------------
def place_paid(ctx: Context, record: OrderRecord, rng: random.Random) -> None:
    _took(ctx, record, ctx.actions.place_store_order(quantity=rng.choice((1, 1, 2))))


def place_storm(ctx: Context, record: OrderRecord, rng: random.Random) -> None:
    """A paid order whose `order.placed` arrives many more times at once, signed as the plugin signs it."""
    order = ctx.actions.place_store_order()
    _took(ctx, record, order)
    copies = rng.randint(4, 10)
    answered = ctx.actions.storm(order, copies)
    record.facts["storm"] = copies
    _note(ctx, record, f"{copies} more signed deliveries of order.placed, {answered} answered")


def place_draft_marked_paid(ctx: Context, record: OrderRecord, rng: random.Random) -> None:
    """A converted draft order (not paid): it waits; staff mark it paid a few seconds later."""
    _took(ctx, record, ctx.actions.convert_draft_order())
    seen = ctx.actions.wait_for_status(record.order_id, {"awaiting_payment"}, timeout=60)
    _note(ctx, record, f"workflow status seen: {seen}")
    time.sleep(rng.uniform(0, 4))
    started = ctx.now()
    try:
        ctx.actions.mark_as_paid(record.order_id)
    except Exception as error:  # e.g. the order was canceled as never paid, under a long fault
        _note(ctx, record, f"mark as paid failed: {error}")
        record.facts["marked_paid"] = False
        return
    record.facts["marked_paid"] = True
    # Marked well inside the 40 s the order may wait: only the completed end is right.
    record.facts["marked_in_time"] = seen == "awaiting_payment" and ctx.now() - started < 15
    _note(ctx, record, "staff marked it paid")


def expect_draft_marked_paid(record: OrderRecord) -> list[Expected]:
    completed = _completed(record, payment="captured")
    never_paid = expect_never_paid(record)
    if not record.facts.get("marked_paid"):
        return never_paid
    if record.facts.get("marked_in_time"):
        return [completed]
    # Marked while the worker was failing the order: the cancel refunds the payment Medusa just took.
    refunded = Expected(
        "payment_failed", "canceled", frozenset({"refunded"}), "released", (CANCELED_PAYMENT,), ("refunded",)
    )
    return [completed, refunded, *never_paid]


def place_never_paid(ctx: Context, record: OrderRecord, rng: random.Random) -> None:
    _took(ctx, record, ctx.actions.convert_draft_order())


def expect_never_paid(record: OrderRecord) -> list[Expected]:
    return [
        Expected(
            "payment_failed",
            "canceled",
            frozenset({"none"}),
            "released",
            (CANCELED_PAYMENT,),
            (NOTHING_TAKEN,),
            message_contains="canceled in Medusa",
        )
    ]


def place_zero_total(ctx: Context, record: OrderRecord, rng: random.Random) -> None:
    """A draft order given away (the line at 0, no shipping), converted: nothing is to be paid."""
    _took(ctx, record, ctx.actions.convert_draft_order(unit_price=0))


def expect_zero_total(record: OrderRecord) -> list[Expected]:
    return [_completed(record, payment="none")]


def place_cancel_waiting(ctx: Context, record: OrderRecord, rng: random.Random) -> None:
    """Staff cancel a converted draft order while its process waits for the payment."""
    _took(ctx, record, ctx.actions.convert_draft_order())
    seen = ctx.actions.wait_for_status(record.order_id, {"awaiting_payment"}, timeout=30)
    time.sleep(rng.uniform(0, 3))
    ctx.actions.cancel(record.order_id)
    record.facts["canceled_while"] = seen
    _note(ctx, record, f"staff canceled it (workflow status seen before: {seen})")


def expect_cancel_waiting(record: OrderRecord) -> list[Expected]:
    return [
        Expected(
            "canceled",
            "canceled",
            frozenset({"none"}),
            "released",
            cancel_reached_engine=True,
        )
    ]


def place_cancel_running(ctx: Context, record: OrderRecord, rng: random.Random) -> None:
    """Staff cancel a paid order a moment after it was placed, at whatever step its process is."""
    _took(ctx, record, ctx.actions.place_store_order())
    time.sleep(rng.uniform(0, 3))
    ctx.actions.cancel(record.order_id)
    _note(ctx, record, "staff canceled it")


def expect_cancel_running(record: OrderRecord) -> list[Expected]:
    canceled = Expected(
        "canceled", "canceled", frozenset({"canceled"}), "released", cancel_reached_engine=True
    )
    # The cancel came after the confirmation: the order was right to be confirmed, Medusa cancels it after.
    confirmed_first = _completed(
        record, medusa_status="canceled", payment="canceled", reservations="released"
    )
    # The cancel committed before the order's `order.placed` went out (a delivery held back or retried
    # through a fault): no process starts, and the plugin's reconciliation records the cancel.
    canceled_before_start = Expected(
        "canceled",
        "canceled",
        frozenset({"canceled"}),
        "released",
        message_contains=CANCELED_BEFORE_START,
        cancel_reached_engine=True,
        instances=0,
    )
    # No out_of_stock or payment_failed end: Medusa's cancel releases the stock and the payment before it
    # marks the order canceled, and a worker that reads the order in between must not take that for a
    # business outcome (worker_job/confirm.py).
    return [canceled, confirmed_first, canceled_before_start]


def place_cancel_starting(ctx: Context, record: OrderRecord, rng: random.Random) -> None:
    """Staff cancel a paid order just as its process starts: its `order.placed` deliveries are held back
    until staff's cancel is under way, so the process reads the order while Medusa cancels it (aimed: only
    a run that names this case places it)."""
    with _held_back(ctx, CANCEL_STARTING_QUANTITY) as release:
        _took(ctx, record, ctx.actions.place_store_order(quantity=CANCEL_STARTING_QUANTITY))
        timer = threading.Timer(rng.uniform(*CANCEL_STARTING_RELEASE_SECONDS), release, (record.order_id,))
        timer.start()
        try:
            ctx.actions.cancel(record.order_id)
        finally:
            timer.join()
    _note(ctx, record, "staff canceled it while its order.placed was let through")


@contextmanager
def _held_back(ctx: Context, quantity: int) -> Iterator[Callable[[str], None]]:
    """Holds back (503, the subscriber retries) the `order.placed` deliveries of orders of `quantity`
    items (their total tells them apart: only this case orders that many) until `release(order_id)`.
    The order's id is known only once it is placed, hence the quantity."""
    total = quantity * PRODUCT_PRICE + SHIPPING_PRICE
    released: set[str] = set()

    def held(request: Request) -> bool:
        event = request.json()
        if not isinstance(event, dict) or event.get("type") != "order.placed":
            return False
        data = event.get("data") or {}
        return bool(data.get("total") == total and data.get("id") not in released)

    with holding(ctx.webhook_proxy, held):
        yield released.add


def place_stock_missing(ctx: Context, record: OrderRecord, rng: random.Random) -> None:
    """A paid order whose reservations are gone before its process checks them: its `order.placed`
    deliveries are held back while its reservations are deleted through the Admin API."""
    with _held_back(ctx, STOCK_MISSING_QUANTITY) as release:
        _took(ctx, record, ctx.actions.place_store_order(quantity=STOCK_MISSING_QUANTITY))
        deleted = ctx.actions.delete_reservations(record.order_id)
        release(record.order_id)
    _note(ctx, record, f"{deleted} reservation(s) deleted before its process started")


def expect_stock_missing(record: OrderRecord) -> list[Expected]:
    """The main worker holds the order for staff (policy `hold`), the skewed one cancels it (`cancel`)."""
    held = Expected(
        "out_of_stock", "pending", frozenset({"authorized"}), "released", message_contains="held for staff"
    )
    canceled = Expected(
        "out_of_stock", "canceled", frozenset({"canceled"}), "released", (CANCELED_STOCK,), (NOTHING_TAKEN,)
    )
    return [held, canceled]


def place_refunded_before_check(ctx: Context, record: OrderRecord, rng: random.Random) -> None:
    """A paid order whose payment staff captured and partly refunded before its process checks it: the
    payment no longer covers the total (its status is `partially_refunded`)."""
    with _held_back(ctx, REFUNDED_QUANTITY) as release:
        _took(ctx, record, ctx.actions.place_store_order(quantity=REFUNDED_QUANTITY))
        ctx.actions.capture(record.order_id)
        ctx.actions.refund(record.order_id, 10)
        release(record.order_id)
    _note(ctx, record, "captured, 10.00 refunded, before its process started")


def expect_refunded_before_check(record: OrderRecord) -> list[Expected]:
    # Medusa's cancel refunds the rest, so the mail says all of it came back.
    words = (f"The {record.total:.2f} EUR you paid has been refunded in full",)
    return [
        Expected(
            "payment_failed", "canceled", frozenset({"refunded"}), "released", (CANCELED_PAYMENT,), words
        )
    ]


def place_captured_then_canceled(ctx: Context, record: OrderRecord, rng: random.Random) -> None:
    """A confirmed order whose payment staff captured, then canceled: Medusa refunds it, no mail follows."""
    _took(ctx, record, ctx.actions.place_store_order())
    seen = ctx.actions.wait_for_status(record.order_id, {"completed"}, timeout=120)
    ctx.actions.capture(record.order_id)
    ctx.actions.cancel(record.order_id)
    record.facts["seen_completed"] = seen == "completed"
    _note(ctx, record, f"captured and canceled by staff (workflow status seen before: {seen})")


def expect_captured_then_canceled(record: OrderRecord) -> list[Expected]:
    confirmed = _completed(record, medusa_status="canceled", payment="refunded", reservations="released")
    if record.facts.get("seen_completed"):
        return [confirmed]
    canceled = Expected(
        "canceled", "canceled", frozenset({"refunded"}), "released", cancel_reached_engine=True
    )
    return [confirmed, canceled]


CASES: tuple[Case, ...] = (
    Case("paid", 6, place_paid, lambda record: [_completed(record)]),
    Case("webhook storm", 2, place_storm, lambda record: [_completed(record)]),
    Case("draft, marked paid later", 2, place_draft_marked_paid, expect_draft_marked_paid),
    Case("never paid", 1, place_never_paid, expect_never_paid),
    Case("zero total", 1, place_zero_total, expect_zero_total),
    Case("canceled while waiting for payment", 2, place_cancel_waiting, expect_cancel_waiting),
    Case("canceled while running", 3, place_cancel_running, expect_cancel_running),
    Case("stock missing", 2, place_stock_missing, expect_stock_missing),
    Case("captured, then canceled", 1, place_captured_then_canceled, expect_captured_then_canceled),
    Case("partly refunded before its check", 1, place_refunded_before_check, expect_refunded_before_check),
)
# Cases a run places only when it names them, to aim at one race.
AIMED_CASES: tuple[Case, ...] = (
    Case("canceled as its process starts", 1, place_cancel_starting, expect_cancel_running),
)
CASES_BY_NAME = {case.name: case for case in (*CASES, *AIMED_CASES)}
# The README's cases no run places yet.
NOT_PLACED = ("payment canceled or failed at the provider", "cancel refused by Medusa")


def draw_orders(seed: int, count: int, names: tuple[str, ...] | None = None) -> list[str]:
    """The cases of `count` orders, from the seed: every case once (when there is room), then by weight."""
    cases = list(CASES) if names is None else [case for case in (*CASES, *AIMED_CASES) if case.name in names]
    rng = random.Random(f"orders-{seed}")
    mix = [case.name for case in cases][:count]
    weights = [case.weight for case in cases]
    mix += rng.choices([case.name for case in cases], weights, k=count - len(mix))
    rng.shuffle(mix)
    return mix
