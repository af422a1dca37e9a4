"""The chaos run's seeded plan and its checker's rules, without a stack."""

from __future__ import annotations

from typing import Any

import pytest

from devstack.chaos.checker import Observed, differences, judge, payment_states
from devstack.chaos.nemesis import FAMILIES, clock_skew, schedule
from devstack.chaos.orders import CASES, CASES_BY_NAME, OrderRecord, draw_orders


def test_the_same_seed_gives_the_same_orders_and_faults_and_another_seed_others() -> None:
    assert draw_orders(7, 40) == draw_orders(7, 40)
    assert schedule(7, 120, 12, FAMILIES) == schedule(7, 120, 12, FAMILIES)
    assert clock_skew(7, FAMILIES) == clock_skew(7, FAMILIES)
    assert draw_orders(7, 40) != draw_orders(8, 40)
    assert schedule(7, 120, 12, FAMILIES) != schedule(8, 120, 12, FAMILIES)


def test_every_case_is_placed_once_there_is_room_and_only_the_chosen_cases_otherwise() -> None:
    assert set(draw_orders(3, len(CASES))) == {case.name for case in CASES}
    assert set(draw_orders(3, 10, ("paid", "never paid"))) == {"paid", "never paid"}


def test_the_schedule_keeps_to_the_chosen_families_and_the_run() -> None:
    faults = schedule(5, 100, 30, ("kill", "cut"))
    assert len(faults) == 30
    assert {fault.family for fault in faults} <= {"kill", "cut"}
    assert all(0 <= fault.at <= 85 for fault in faults)
    assert [fault.at for fault in faults] == sorted(fault.at for fault in faults)
    assert clock_skew(5, ("kill",)) == 0


def _completed_instance() -> dict[str, Any]:
    return {"key": 1, "state": "COMPLETED", "incident_count": 0, "history": []}


def _paid_order_seen(**changes: Any) -> Observed:
    seen = Observed(
        workflow="completed",
        workflow_message="confirmed",
        medusa_status="pending",
        payment=frozenset({"authorized"}),
        reservations=1,
        mails={"order-confirmation": "Your order #1 is confirmed\nTotal: 30.00 EUR"},
        instances=[_completed_instance()],
        cancel_reached_engine=False,
    )
    for name, value in changes.items():
        setattr(seen, name, value)
    return seen


def _paid_record() -> OrderRecord:
    return OrderRecord(0, "paid", order_id="order_1", total=30.0)


def test_a_paid_order_that_ended_right_has_no_differences() -> None:
    (expected,) = CASES_BY_NAME["paid"].expect(_paid_record())
    assert differences(expected, _paid_order_seen()) == []


def test_each_wrong_detail_of_an_order_is_named() -> None:
    (expected,) = CASES_BY_NAME["paid"].expect(_paid_record())
    second = {**_completed_instance(), "key": 2}
    wrong = _paid_order_seen(
        medusa_status="canceled",
        reservations=0,
        mails={"order-confirmation": "Total: 25.00 EUR", "order-canceled-stock": ""},
        instances=[_completed_instance(), second],
    )

    problems = differences(expected, wrong)

    assert problems == [
        "Medusa order status 'canceled', expected 'pending'",
        "0 reservation(s), expected them kept",
        "mails ['order-canceled-stock', 'order-confirmation'], expected ['order-confirmation']",
        "mail order-confirmation lacks ['Total: 30.00 EUR']",
        "2 process instances, expected 1",
    ]


def test_an_instance_still_active_or_with_an_incident_is_a_violation() -> None:
    (expected,) = CASES_BY_NAME["paid"].expect(_paid_record())
    stuck = {**_completed_instance(), "state": "ACTIVE", "incident_count": 1}

    problems = differences(expected, _paid_order_seen(instances=[stuck]))

    assert problems == ["process instance 1 is ACTIVE", "process instance 1 has 1 open incident(s)"]


def test_a_staff_cancel_the_engine_never_heard_of_is_a_violation() -> None:
    record = OrderRecord(0, "canceled while waiting for payment", order_id="order_1")
    (expected,) = CASES_BY_NAME[record.case].expect(record)
    seen = _paid_order_seen(
        workflow="canceled", medusa_status="canceled", payment=frozenset({"none"}), reservations=0, mails={}
    )

    assert differences(expected, seen) == [
        "staff canceled it, but no order-canceled message reached the engine"
    ]
    seen.cancel_reached_engine = True
    assert differences(expected, seen) == []


def test_each_payment_is_named_by_what_happened_to_it() -> None:
    order = {
        "payment_collections": [
            {
                "payments": [
                    {"captured_at": None, "canceled_at": None},
                    {"captured_at": "t", "canceled_at": None},
                    {"captured_at": None, "canceled_at": "t"},
                    {"captured_at": "t", "refunds": [{"amount": 30}]},
                ]
            }
        ]
    }
    assert payment_states(order) == {"authorized", "captured", "canceled", "refunded"}
    assert payment_states({"payment_collections": []}) == {"none"}


@pytest.mark.parametrize(
    ("workflow_message", "mails"),
    [
        ("stock missing: held for staff", {}),
        ("The order is canceled in Medusa", {"order-canceled-stock": "No money was taken"}),
    ],
)
def test_a_staff_canceled_order_ended_out_of_stock_is_a_violation(
    workflow_message: str, mails: dict[str, str]
) -> None:
    """Medusa's cancel releases the stock before it marks the order canceled: a worker that read the order
    in between and ended it out_of_stock (held, or canceled with the stock mail) took a technical in-between
    state for a business outcome."""
    record = OrderRecord(0, "canceled while running", order_id="order_1")
    seen = _paid_order_seen(
        workflow="out_of_stock",
        workflow_message=workflow_message,
        medusa_status="canceled",
        payment=frozenset({"canceled"}),
        reservations=0,
        mails=mails,
        cancel_reached_engine=True,
    )

    assert judge(record, seen).problems != []
    seen.workflow = "canceled"
    seen.mails = {}
    assert judge(record, seen).problems == [], "the same order ended canceled without a mail is right"
