"""A safe FEEL subset: tokenizer, recursive-descent parser and evaluator (never Python eval).

Supported: number/string/true/false/null literals, variable paths ``a.b.c``, comparisons
``= != < <= > >=``, ``and``/``or``, ``not(x)``, arithmetic ``+ - * /`` and parentheses.
Semantics follow FEEL: a missing variable or path is ``null``; comparing or computing with
``null`` or mismatched types yields ``null`` (so does a result beyond what a float holds);
numbers are decimals as in Zeebe's FEEL engine (``0.1 + 0.2 = 0.3`` is true): arithmetic and comparisons
run on 34-digit decimals (IEEE DECIMAL128, like Java's MathContext.DECIMAL128) and a result leaves the
evaluator as a JSON number again (an integer when it is whole and fits 64 bits, else a float);
``and``/``or`` use three-valued logic. Expressions longer than MAX_TOKENS tokens or nested deeper
than MAX_NESTING levels are refused, so neither parsing nor evaluation can exhaust the stack.
"""

from __future__ import annotations

import decimal
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

Value = Any
MAX_TOKENS = 400
MAX_NESTING = 32


class FeelError(ValueError):
    """An expression outside the supported FEEL subset or with a syntax error."""


_TOKEN = re.compile(
    r"""\s*(?:
      (?P<number>\d+(?:\.\d+)?)
    | (?P<string>"(?:[^"\\]|\\.)*")
    | (?P<op><=|>=|!=|[=<>+\-*/().,])
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<bad>\S)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"true": True, "false": False, "null": None}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "'": "'"}


@dataclass(frozen=True)
class Token:
    kind: str
    text: str


def tokenize(source: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    source = source.rstrip()
    while position < len(source):
        match = _TOKEN.match(source, position)
        if match is None:  # pragma: no cover - the pattern always matches one character
            raise FeelError(f"cannot read expression at offset {position}")
        kind = match.lastgroup or "bad"
        text = match.group(kind)
        if kind == "bad":
            raise FeelError(f"unsupported character {text!r} at offset {match.start(kind)}")
        tokens.append(Token(kind, text))
        if len(tokens) > MAX_TOKENS:
            raise FeelError(f"expression longer than {MAX_TOKENS} tokens")
        position = match.end()
    tokens.append(Token("end", ""))
    return tokens


# --- AST -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Literal:
    value: Value


@dataclass(frozen=True)
class Path:
    names: tuple[str, ...]


@dataclass(frozen=True)
class Unary:
    op: str
    operand: Node


@dataclass(frozen=True)
class Binary:
    op: str
    left: Node
    right: Node


Node = Literal | Path | Unary | Binary


def _number(text: str) -> int | decimal.Decimal:
    try:
        value = decimal.Decimal(text) if "." in text else int(text)
    except ValueError:  # more digits than Python converts
        raise FeelError(f"number literal too long: {text[:20]}...") from None
    try:
        finite = math.isfinite(float(value))
    except OverflowError:
        finite = False
    if not finite:
        raise FeelError(f"number literal too large: {text[:20]}...")
    return value


def _unescape(quoted: str) -> str:
    body = quoted[1:-1]
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), body)


class _Parser:
    def __init__(self, source: str) -> None:
        self.tokens = tokenize(source)
        self.index = 0
        self.depth = 0

    def peek(self) -> Token:
        return self.tokens[self.index]

    def take(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def nested(self, parse_inner: Callable[[], Node]) -> Node:
        """Parse a parenthesised, negated or not() operand, refusing nesting the stack cannot hold."""
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise FeelError(f"expression nested deeper than {MAX_NESTING} levels")
        node = parse_inner()
        self.depth -= 1
        return node

    def expect(self, text: str) -> None:
        token = self.take()
        if token.text != text:
            raise FeelError(f"expected {text!r} but found {token.text or 'end of expression'!r}")

    def parse(self) -> Node:
        if self.peek().kind == "end":
            raise FeelError("empty expression")
        node = self.disjunction()
        if self.peek().kind != "end":
            raise FeelError(f"unexpected {self.peek().text!r}")
        return node

    def disjunction(self) -> Node:
        node = self.conjunction()
        while self.peek().text == "or":
            self.take()
            node = Binary("or", node, self.conjunction())
        return node

    def conjunction(self) -> Node:
        node = self.comparison()
        while self.peek().text == "and":
            self.take()
            node = Binary("and", node, self.comparison())
        return node

    def comparison(self) -> Node:
        node = self.additive()
        if self.peek().text in {"=", "!=", "<", "<=", ">", ">="}:
            op = self.take().text
            node = Binary(op, node, self.additive())
            if self.peek().text in {"=", "!=", "<", "<=", ">", ">="}:
                raise FeelError("chained comparisons are not supported")
        return node

    def additive(self) -> Node:
        node = self.multiplicative()
        while self.peek().text in {"+", "-"}:
            op = self.take().text
            node = Binary(op, node, self.multiplicative())
        return node

    def multiplicative(self) -> Node:
        node = self.unary()
        while self.peek().text in {"*", "/"}:
            op = self.take().text
            node = Binary(op, node, self.unary())
        return node

    def unary(self) -> Node:
        if self.peek().text == "-":
            self.take()
            return Unary("-", self.nested(self.unary))
        return self.postfix()

    def postfix(self) -> Node:
        node = self.primary()
        while self.peek().text == ".":
            self.take()
            name = self.take()
            if name.kind != "name":
                raise FeelError(f"expected a name after '.' but found {name.text!r}")
            if not isinstance(node, Path):
                raise FeelError("path access is only supported on variables")
            node = Path((*node.names, name.text))
        return node

    def primary(self) -> Node:
        token = self.take()
        if token.kind == "number":
            return Literal(_number(token.text))
        if token.kind == "string":
            return Literal(_unescape(token.text))
        if token.kind == "name":
            return self.named(token.text)
        if token.text == "(":
            node = self.nested(self.disjunction)
            self.expect(")")
            return node
        raise FeelError(f"unexpected {token.text or 'end of expression'!r}")

    def named(self, name: str) -> Node:
        if name in _KEYWORDS:
            return Literal(_KEYWORDS[name])
        if self.peek().text == "(":
            if name != "not":
                raise FeelError(f"unsupported FEEL function {name!r} (only not() is supported)")
            self.take()
            operand = self.nested(self.disjunction)
            self.expect(")")
            return Unary("not", operand)
        if name in {"and", "or", "if", "then", "else", "for", "some", "every", "in", "satisfies"}:
            raise FeelError(f"unsupported FEEL construct {name!r}")
        return Path((name,))


def parse(source: str) -> Node:
    """Parse a FEEL expression (without its leading '=') into an AST; raise FeelError if unsupported."""
    return _Parser(source).parse()


# --- evaluation ------------------------------------------------------------------------------
def _is_number(value: Value) -> bool:
    return isinstance(value, int | float | decimal.Decimal) and not isinstance(value, bool)


# Zeebe's FEEL numbers are BigDecimals computed with MathContext.DECIMAL128.
DECIMAL128 = decimal.Context(prec=34, rounding=decimal.ROUND_HALF_EVEN, Emax=6144, Emin=-6143)
_INT64 = 2**63


def _decimal(number: int | float | decimal.Decimal) -> decimal.Decimal:
    if isinstance(number, float):
        return decimal.Decimal(repr(number))  # the shortest decimal that reads back as this float
    return decimal.Decimal(number)


def _to_json(value: Value) -> Value:
    """A decimal result as the JSON number a Zeebe variable holds (None when no float holds it)."""
    if not isinstance(value, decimal.Decimal):
        return value
    if value == value.to_integral_value() and abs(value) < _INT64:
        return int(value)
    number = float(value)
    return number if math.isfinite(number) else None


def _lookup(path: Path, context: Mapping[str, Value]) -> Value:
    value: Value = context
    for name in path.names:
        if not isinstance(value, Mapping):
            return None
        value = value.get(name)
    return value


def _equal(left: Value, right: Value) -> Value:
    if left is None or right is None:
        return left is None and right is None
    if _is_number(left) and _is_number(right):
        return _decimal(left) == _decimal(right)
    if type(left) is not type(right):
        return None
    return bool(left == right)


def _order(op: str, left: Value, right: Value) -> Value:
    if _is_number(left) and _is_number(right):
        left, right = _decimal(left), _decimal(right)
    elif not (isinstance(left, str) and isinstance(right, str)):
        return None
    if op == "<":
        return bool(left < right)
    if op == "<=":
        return bool(left <= right)
    if op == ">":
        return bool(left > right)
    return bool(left >= right)


def _arithmetic(op: str, left: Value, right: Value) -> Value:
    if op == "+" and isinstance(left, str) and isinstance(right, str):
        return left + right
    if not (_is_number(left) and _is_number(right)):
        return None
    try:
        return _compute(op, _decimal(left), _decimal(right))
    except decimal.Overflow:  # beyond even a DECIMAL128
        return None


def _compute(op: str, left: decimal.Decimal, right: decimal.Decimal) -> Value:
    if op == "+":
        return DECIMAL128.add(left, right)
    if op == "-":
        return DECIMAL128.subtract(left, right)
    if op == "*":
        return DECIMAL128.multiply(left, right)
    if right == 0:
        return None
    return DECIMAL128.divide(left, right)


def _logic(op: str, left: Value, right: Value) -> Value:
    left = left if isinstance(left, bool) else None
    right = right if isinstance(right, bool) else None
    if op == "and":
        if left is False or right is False:
            return False
        return True if left is True and right is True else None
    if left is True or right is True:
        return True
    return False if left is False and right is False else None


def evaluate(node: Node, context: Mapping[str, Value]) -> Value:
    """Evaluate a parsed expression against variables; never raises for data problems (gives null)."""
    return _to_json(_evaluate(node, context))


def _evaluate(node: Node, context: Mapping[str, Value]) -> Value:
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Path):
        return _lookup(node, context)
    if isinstance(node, Unary):
        operand = _evaluate(node.operand, context)
        if node.op == "not":
            return (not operand) if isinstance(operand, bool) else None
        return -operand if _is_number(operand) else None
    left = _evaluate(node.left, context)
    if node.op in {"and", "or"}:
        return _logic(node.op, left, _evaluate(node.right, context))
    right = _evaluate(node.right, context)
    if node.op == "=":
        return _equal(left, right)
    if node.op == "!=":
        equal = _equal(left, right)
        return None if equal is None else not equal
    if node.op in {"<", "<=", ">", ">="}:
        return _order(node.op, left, right)
    return _arithmetic(node.op, left, right)


@dataclass(frozen=True)
class Expression:
    """A BPMN attribute value: '=...' is a FEEL expression, anything else a static string."""

    text: str
    node: Node | None

    @classmethod
    def parse(cls, text: str) -> Expression:
        stripped = text.strip()
        if stripped.startswith("="):
            return cls(text, parse(stripped[1:]))
        return cls(text, None)

    @property
    def is_static(self) -> bool:
        return self.node is None

    def evaluate(self, context: Mapping[str, Value]) -> Value:
        return self.text if self.node is None else evaluate(self.node, context)
