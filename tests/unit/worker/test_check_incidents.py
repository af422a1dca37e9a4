"""The incident checker's log lines, read from the API's answers (respx for httpx)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx

from fulfillment.camunda_api import CamundaApi
from fulfillment.logs import setup_logging
from worker_job import check_incidents

API = "http://camunda.test"


@pytest.fixture
def log() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    out = io.StringIO()
    setup_logging("check_incidents", stream=out)
    yield out
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


def lines(out: io.StringIO) -> list[dict[str, Any]]:
    """The checker's own lines (httpx logs each request too)."""
    entries = [json.loads(line) for line in out.getvalue().splitlines()]
    return [entry for entry in entries if entry["logger"] == check_incidents.logger.name]


def incident(key: str, instance: str, error_type: str) -> dict[str, Any]:
    return {
        "incidentKey": key,
        "processInstanceKey": instance,
        "processDefinitionId": "order-fulfillment",
        "errorType": error_type,
        "errorMessage": f"{error_type} message",
        "elementId": "ReserveInventory",
        "creationTime": "2026-12-01T10:00:00.000Z",
        "state": "ACTIVE",
    }


def test_one_line_per_open_incident_with_its_order_then_the_count(log: io.StringIO) -> None:
    incidents = [incident("101", "11", "JOB_NO_RETRIES"), incident("102", "12", "EXTRACT_VALUE_ERROR")]
    order = {"name": "order_id", "value": '"order_01ABC"', "processInstanceKey": "11", "scopeKey": "11"}
    with respx.mock(base_url=f"{API}/v2") as api_mock:
        api_mock.post("/incidents/search").respond(json={"items": incidents, "page": {"totalItems": 2}})
        api_mock.post("/variables/search").respond(json={"items": [order], "page": {"totalItems": 1}})
        with CamundaApi(API) as api:
            assert check_incidents.check_incidents(api) == 2

    first, second, summary = lines(log)
    assert {k: first[k] for k in ("event", "incident_key", "process_instance_key", "order_id")} == {
        "event": "incident_open",
        "incident_key": "101",
        "process_instance_key": "11",
        "order_id": "order_01ABC",
    }
    assert (first["bpmn_process_id"], first["error_type"], first["created_at"], first["severity"]) == (
        "order-fulfillment",
        "JOB_NO_RETRIES",
        "2026-12-01T10:00:00+00:00",
        "ERROR",
    )
    assert (second["error_message"], second["order_id"]) == ("EXTRACT_VALUE_ERROR message", None)
    assert (summary["event"], summary["open_incidents"]) == ("incident_check", 2)


def test_an_incident_is_reported_even_when_its_order_cannot_be_looked_up(log: io.StringIO) -> None:
    with respx.mock(base_url=f"{API}/v2") as api_mock:
        api_mock.post("/incidents/search").respond(
            json={"items": [incident("101", "11", "IO_MAPPING_ERROR")]}
        )
        api_mock.post("/variables/search").respond(400, json={"title": "Bad Request", "detail": "no $in"})
        with CamundaApi(API) as api:
            check_incidents.check_incidents(api)

    events = [(entry.get("event"), entry.get("order_id")) for entry in lines(log)]
    assert ("incident_open", None) in events
    assert events[-1] == ("incident_check", None)


def test_no_incident_is_a_zero_count(log: io.StringIO) -> None:
    with respx.mock(base_url=f"{API}/v2") as api_mock:
        api_mock.post("/incidents/search").respond(json={"items": [], "page": {"totalItems": 0}})
        with CamundaApi(API) as api:
            check_incidents.check_incidents(api)

    [summary] = lines(log)
    assert (summary["event"], summary["open_incidents"]) == ("incident_check", 0)


@pytest.mark.parametrize(
    "answer", [httpx.Response(401, json={"title": "Unauthorized"}), httpx.ConnectError("refused")]
)
def test_a_check_that_cannot_look_logs_one_failure_line_and_exits_non_zero(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], answer: Any
) -> None:
    clean_env.setenv("CAMUNDA_API_URL", API)
    clean_env.setenv("CAMUNDA_API_MAX_ATTEMPTS", "1")
    with respx.mock(base_url=f"{API}/v2") as api_mock:
        api_mock.post("/incidents/search").mock(side_effect=[answer])
        code = check_incidents.main()

    [failure] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code != 0
    assert failure["event"] == "incident_check_failed"
    assert failure["error"].startswith(("CamundaApiRefused", "CamundaApiUnavailable"))
