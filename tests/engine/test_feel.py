"""FEEL subset: parsing, null-aware semantics, and refusal of everything outside the subset."""

from __future__ import annotations

import re
from typing import Any

import pytest

from localzeebe.feel import Expression, FeelError, evaluate, parse

VARIABLES = {"order": {"total": 120, "status": "paid", "customer": {"vip": True}}, "n": 3, "s": "a"}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("1", 1),
        ("2.5", 2.5),
        ('"text \\"quoted\\""', 'text "quoted"'),
        ("true", True),
        ("null", None),
        ("order.total", 120),
        ("order.customer.vip", True),
        ("order.missing.deeper", None),
        ("unknown", None),
        ("order.total >= 100", True),
        ('order.status = "paid"', True),
        ('order.status != "paid"', False),
        ("n < 3", False),
        ("n <= 3", True),
        ('s < "b"', True),
        ("n = 3 and order.customer.vip", True),
        ("n = 4 or not(order.customer.vip)", False),
        ("not(n > 1)", False),
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("10 / 4", 2.5),
        ("10 / 5", 2),
        ("-n + 1", -2),
        ('"a" + "b"', "ab"),
        ("unknown = null", True),
        ("n = null", False),
        ("unknown > 1", None),
        ('n = "3"', None),
        ("n / 0", None),
        ("n + unknown", None),
        ("false and unknown", False),
        ("true or unknown", True),
        ("true and unknown", None),
        ("not(unknown)", None),
    ],
)
def test_evaluates_the_subset(source: str, expected: Any) -> None:
    assert evaluate(parse(source), VARIABLES) == expected


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("", "empty"),
        ("date(x)", "unsupported FEEL function 'date'"),
        ("[1, 2]", "unsupported character"),
        ("{a: 1}", "unsupported character"),
        ("if a then b else c", "unsupported FEEL construct 'if'"),
        ("a = 1 = 2", "chained"),
        ("1 +", "unexpected"),
        ("(1", "expected ')'"),
        ("a.1", "expected a name"),
        ("'single'", "unsupported character"),
    ],
)
def test_refuses_what_is_outside_the_subset(source: str, reason: str) -> None:
    with pytest.raises(FeelError, match=re.escape(reason)):
        parse(source)


def test_an_expression_needs_the_equals_prefix_otherwise_it_is_static() -> None:
    static = Expression.parse("order.total > 1")
    assert static.is_static
    assert static.evaluate(VARIABLES) == "order.total > 1"
    assert Expression.parse("= order.total > 1").evaluate(VARIABLES) is True
