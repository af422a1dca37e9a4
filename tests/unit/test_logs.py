from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from fulfillment.logs import bind, bound_fields, context_of, setup_logging


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    out = io.StringIO()
    setup_logging("order-webhook", stream=out)
    yield out
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


def lines(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_every_line_has_severity_message_and_context_keys(stream: io.StringIO) -> None:
    logging.getLogger("x").warning("plain %s", "line")
    [entry] = lines(stream)
    assert entry["severity"] == "WARNING"
    assert entry["message"] == "plain line"
    assert entry["component"] == "order-webhook"
    assert entry["order_id"] is None
    assert entry["process_instance_key"] is None


def test_bound_order_and_instance_appear_and_unbind(stream: io.StringIO) -> None:
    log = logging.getLogger("x")
    with bind(order_id="order_1"):
        with bind(process_instance_key="225"):
            log.info("inner")
        log.info("outer")
    log.info("after")
    inner, outer, after = lines(stream)
    assert (inner["order_id"], inner["process_instance_key"]) == ("order_1", "225")
    assert (outer["order_id"], outer["process_instance_key"]) == ("order_1", None)
    assert after["order_id"] is None
    assert bound_fields() == {}


def test_extra_fields_and_exceptions_are_logged(stream: io.StringIO) -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger("x").exception("failed", extra={"attempt": 2})
    [entry] = lines(stream)
    assert entry["severity"] == "ERROR"
    assert entry["attempt"] == 2
    assert "RuntimeError: boom" in str(entry["stack_trace"])


def test_setup_is_idempotent(stream: io.StringIO) -> None:
    setup_logging("order-webhook", stream=stream)
    logging.getLogger("x").info("once")
    assert len(lines(stream)) == 1


def test_an_error_remembers_the_context_it_was_raised_in(stream: io.StringIO) -> None:
    with (
        pytest.raises(ValueError, match="bad") as raised,
        bind(order_id="order_9"),
        bind(process_instance_key="7"),
    ):
        raise ValueError("bad")
    assert context_of(raised.value) == {"order_id": "order_9", "process_instance_key": "7"}
    assert context_of(RuntimeError("elsewhere")) == {}
