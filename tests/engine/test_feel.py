"""FEEL subset: parsing, null-aware semantics, and refusal of everything outside the subset."""

from __future__ import annotations

import random
import re
from typing import Any

import pytest

from localzeebe.feel import MAX_NESTING, MAX_TOKENS, Expression, FeelError, evaluate, parse

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


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("(" * (MAX_NESTING + 1) + "1" + ")" * (MAX_NESTING + 1), "nested deeper"),
        ("not(" * (MAX_NESTING + 1) + "true" + ")" * (MAX_NESTING + 1), "nested deeper"),
        ("-" * (MAX_NESTING + 1) + "1", "nested deeper"),
        (" + ".join(["1"] * MAX_TOKENS), "longer than"),
        ("9" * 5000, "number literal too long"),
        ("9" * 400 + ".5", "number literal too large"),
    ],
)
def test_refuses_what_would_exhaust_the_stack_or_the_number_types(source: str, reason: str) -> None:
    with pytest.raises(FeelError, match=reason):
        parse(source)


def test_the_limits_leave_room_for_real_expressions() -> None:
    nested = "(" * MAX_NESTING + "n" + ")" * MAX_NESTING
    assert evaluate(parse(nested), VARIABLES) == 3
    chain = " or ".join(f'order.status = "s{i}"' for i in range((MAX_TOKENS - 4) // 6)) + ' or s = "a"'
    assert evaluate(parse(chain), VARIABLES) is True


@pytest.mark.parametrize("source", ["big / 3", "big * 1.5", "big + 0.5", "0.5 - big"])
def test_arithmetic_beyond_a_float_is_null(source: str) -> None:
    assert evaluate(parse(source), {"big": 10**400}) is None


_FRAGMENTS = [
    *["(", ")", ".", ",", "+", "-", "*", "/", "=", "!=", "<", "<=", ">", ">="],
    *["and", "or", "not", "not(", "true", "false", "null", "if", "in", "date("],
    *["a", "b", "order", "total", "0", "7", "2.5", "99999999999999999999", '"x"', '"\\"', '"'],
    *[" ", "  ", "\t", "\n", "[", "{", "'", "#", "\u00e9", "\u0663"],
]
_VALUES: list[Any] = [None, True, False, 0, -1, 2.5, 10**30, "", "x", [], [1], {}, {"total": 3}]


def _random_source(rng: random.Random) -> str:
    return "".join(rng.choice(_FRAGMENTS) for _ in range(rng.randint(1, 12)))


def _random_context(rng: random.Random) -> dict[str, Any]:
    return {name: rng.choice(_VALUES) for name in ("a", "b", "order", "total")}


def test_any_input_parses_or_is_refused_and_what_parses_evaluates_without_raising() -> None:
    rng = random.Random(20261128)
    parsed = 0
    for _ in range(20_000):
        source = _random_source(rng)
        try:
            node = parse(source)
        except FeelError:
            continue
        parsed += 1
        for _ in range(3):
            evaluate(node, _random_context(rng))
    assert parsed > 1000, "the generator should produce many valid expressions"
