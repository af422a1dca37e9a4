"""Monitoring in terraform/monitoring.tf watches what the code really logs, and pages where it should.

The code runs (the order webhook with a fake engine, the status function with the plugin's status route
mocked by respx, the worker's job-failure handler), its JSON log lines are collected, and every log-based
metric's filter is evaluated against them with a small evaluator for the part of the Cloud Logging query
language the filters use (`AND` of `field="value"`, `field=value` and `field=("a" OR "b")`). Each metric
must match the lines meant for it and no other, and every label it extracts must be present in those lines.
"""

from __future__ import annotations

import io
import json
import re
import time
import types
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

import pytest
import respx
from pyzeebe import Job

from fulfillment.intake import EngineUnavailable, Publication
from fulfillment.logs import setup_logging
from worker_job.tasks import TaskLimits, exception_handler

from .paths import REPO_ROOT
from .wiring import TerraformConfig

METRIC: Final = "google_logging_metric"
ALERT: Final = "google_monitoring_alert_policy"
DASHBOARD: Final = "google_monitoring_dashboard"
PREFIX: Final = "fulfillment"  # var.name_prefix's default
WEBHOOK_SERVICE: Final = f"{PREFIX}-order-webhook"
STATUS_SERVICE: Final = f"{PREFIX}-status-update"
WORKER_JOB: Final = f"{PREFIX}-worker"
MEDUSA_URL: Final = "http://medusa.test"
ORDER_ID: Final = "order_01JMONITORING0000000000001"
ENGINE_DOWN_ORDER_ID: Final = "order_01JMONITORING0000000000002"


# ---------------------------------------------------------------------------------------------------------
# The log lines the code writes
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LogEntry:
    resource: Mapping[str, Any]
    payload: Mapping[str, Any]


def function_resource(service: str) -> dict[str, Any]:
    return {"type": "cloud_run_revision", "labels": {"service_name": service}}


class FakeEngine:
    def __init__(self) -> None:
        self.seen: set[str] = set()

    def publish_order_placed(self, order_id: str, variables: Mapping[str, Any]) -> Publication:
        if order_id == ENGINE_DOWN_ORDER_ID:
            raise EngineUnavailable("gateway unreachable")
        if order_id in self.seen:
            return "duplicate"
        self.seen.add(order_id)
        return "started"

    def publish_order_canceled(self, order_id: str) -> Publication:
        return self.publish_order_placed(f"{order_id}.canceled", {})


def load(
    name: str, monkeypatch: pytest.MonkeyPatch, settings: Mapping[str, str], stream: io.StringIO
) -> types.ModuleType:
    from unit.helpers import load_function  # the unit tier's way to import a function

    for setting, value in settings.items():
        monkeypatch.setenv(setting, value)
    module = load_function(name)
    setup_logging(name.replace("_", "-"), stream=stream)
    return module


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def placed(order_id: str) -> dict[str, Any]:
    """An order.placed event as the plugin signs it (docs/contracts.md): the webhook never asks Medusa."""
    data = {
        "id": order_id,
        "display_id": 7,
        "currency_code": "eur",
        "total": 42.5,
        "created_at": "2026-11-28T08:00:00.000Z",
        "workflow_status": None,
    }
    return {"type": "order.placed", "timestamp": "2026-11-28T08:00:01.000Z", "data": data}


def webhook_lines(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    from unit.helpers import call_function, new_webhook_secret, signed

    stream = io.StringIO()
    secret = new_webhook_secret()
    module = load("order_webhook", monkeypatch, {"ORDER_WEBHOOK_SECRET": secret}, stream)
    monkeypatch.setattr(module, "ENGINE", FakeEngine())
    # started, duplicate, ignored, then an engine outage: 503
    events = (
        placed(ORDER_ID),
        placed(ORDER_ID),
        {"type": "customer.created", "data": {}},
        placed(ENGINE_DOWN_ORDER_ID),
    )
    for payload in events:
        body, headers = signed(secret, payload)
        call_function(module.order_webhook, body, headers=headers)
    call_function(module.order_webhook, b"{}", headers={"webhook-id": "x"})  # unsigned: 401
    return lines(stream)


def status_lines(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    from unit.helpers import call_function, new_webhook_secret, signed

    stream = io.StringIO()
    secret = new_webhook_secret()
    settings = {
        "STATUS_UPDATE_SECRET": secret,
        "MEDUSA_BACKEND_URL": MEDUSA_URL,
        "MEDUSA_STATUS_SECRET": new_webhook_secret(),
        "MEDUSA_MAX_ATTEMPTS": "1",
    }
    module = load("status_update", monkeypatch, settings, stream)
    stored: dict[str, Any] = {}

    def status_route(request: Any) -> respx.MockResponse:
        # The plugin's compare-and-set: write only over one of the statuses the request may replace.
        sent = json.loads(request.content)
        applied = stored.get("workflow_status") in (sent["replaces"] or [None])
        if applied:
            stored.update(sent["metadata"])
        reason = None if applied else "stale"
        return respx.MockResponse(json={"applied": applied, "reason": reason, "metadata": dict(stored)})

    def report(status: str) -> None:
        update = {"order_id": ORDER_ID, "process_instance_key": "1", "status": status, "message": status}
        body, headers = signed(secret, update)
        call_function(module.status_update, body, headers=headers)

    with respx.mock(base_url=MEDUSA_URL) as medusa:
        route = medusa.post(f"/fulfillment-workflow/orders/{ORDER_ID}/status")
        route.mock(side_effect=status_route)
        for status in ("payment_verified", "completed", "payment_verified"):  # the last is refused: stale
            report(status)
        route.mock(return_value=respx.MockResponse(503, json={"message": "down"}))
        report("completed")  # Medusa down: 503
    return lines(stream)


class Adapter:
    async def fail_job(self, **_command: Any) -> None:
        pass


async def worker_lines() -> list[dict[str, Any]]:
    stream = io.StringIO()
    setup_logging("worker_job", stream=stream)
    handle = exception_handler(TaskLimits(1, 1, 1000, 10, 100, outage_window_ms=1000), Adapter())  # type: ignore[arg-type]
    now_ms = int(time.time() * 1000)
    for retries, since in ((3, now_ms), (3, now_ms - 2000)):  # the second is past the window: an incident
        job = Job(
            key=1,
            type="reserve-inventory",
            process_instance_key=2,
            bpmn_process_id="order-fulfillment",
            process_definition_version=1,
            process_definition_key=3,
            element_id="ReserveInventory",
            element_instance_key=4,
            custom_headers={},
            worker="test",
            retries=retries,
            deadline=0,
            variables={"order_id": ORDER_ID, "technical_fault_since_ms": since},
        )
        await handle(RuntimeError("Medusa down"), job, None)  # type: ignore[arg-type]
    return lines(stream)


@pytest.fixture(scope="module")
def entries() -> Iterator[list[LogEntry]]:
    import asyncio

    with pytest.MonkeyPatch.context() as monkeypatch:
        for name in ("ORDER_WEBHOOK_SECRET", "STATUS_UPDATE_SECRET", "ZEEBE_ADDRESS", "MEDUSA_MAX_ATTEMPTS"):
            monkeypatch.delenv(name, raising=False)
        found = [LogEntry(function_resource(WEBHOOK_SERVICE), line) for line in webhook_lines(monkeypatch)]
        found += [LogEntry(function_resource(STATUS_SERVICE), line) for line in status_lines(monkeypatch)]
        worker = {"type": "cloud_run_job", "labels": {"job_name": WORKER_JOB}}
        found += [LogEntry(worker, line) for line in asyncio.run(worker_lines())]
        yield found
    setup_logging("tests")


# ---------------------------------------------------------------------------------------------------------
# Evaluating the config's filters
# ---------------------------------------------------------------------------------------------------------
def interpolate(config: TerraformConfig, text: str) -> str:
    """Replaces ${local.a.b} and ${var.name_prefix} until none is left (the config's defaults)."""

    def value(match: re.Match[str]) -> str:
        path = match.group(1).split(".")
        if path == ["var", "name_prefix"]:
            return PREFIX
        if path[0] == "local":
            current: Any = config.locals
            for part in path[1:]:
                current = current[part]
            return str(current)
        if path[:2] == ["google_cloud_run_v2_job", "worker"]:
            return WORKER_JOB
        raise AssertionError(f"cannot interpolate {match.group(0)}")

    for _ in range(10):
        text, count = re.subn(r"\$\{([a-z_.]+)\}", value, text)
        if not count:
            return text
    raise AssertionError(f"interpolation does not end: {text}")


TERM = re.compile(r'^(?P<field>[A-Za-z_.]+)=(?:"(?P<quoted>[^"]*)"|\((?P<any>[^)]*)\)|(?P<bare>\S+))$')


def matches(filter_text: str, entry: LogEntry) -> bool:
    return all(_term_holds(term.strip(), entry) for term in filter_text.split(" AND "))


def _term_holds(term: str, entry: LogEntry) -> bool:
    parsed = TERM.match(term)
    assert parsed, f"the evaluator does not understand {term!r}: keep filters simple or extend it"
    actual = field_value(parsed.group("field"), entry)
    if parsed.group("any") is not None:
        wanted = [option.strip().strip('"') for option in parsed.group("any").split(" OR ")]
    else:
        wanted = [parsed.group("quoted") if parsed.group("quoted") is not None else parsed.group("bare")]
    return actual is not None and _as_text(actual) in wanted


def field_value(path: str, entry: LogEntry) -> Any:
    root, *parts = path.split(".")
    current: Any = {"jsonPayload": entry.payload, "resource": entry.resource}.get(root)
    for part in parts:
        if not isinstance(current, Mapping) or part not in current:
            return None
        current = current[part]
    return current


def _as_text(value: Any) -> str:
    return json.dumps(value) if isinstance(value, bool) else str(value)


def metrics(config: TerraformConfig) -> dict[str, dict[str, Any]]:
    """The log-based metrics: one google_logging_metric per entry of local.log_metrics."""
    [resource] = config.of_type(METRIC).values()
    assert resource["for_each"] == "${local.log_metrics}"
    assert (
        resource["label_extractors"]
        == '${{for key, label in each.value.labels : key => "EXTRACT(${label.extract})"}}'
    )
    return {name: dict(body) for name, body in config.locals["log_metrics"].items()}


def matched(config: TerraformConfig, name: str, entries: list[LogEntry]) -> list[LogEntry]:
    return [
        entry for entry in entries if matches(interpolate(config, metrics(config)[name]["filter"]), entry)
    ]


# ---------------------------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------------------------
EXPECTED_METRICS: Final = {
    "webhook_outcomes",
    "refused_requests",
    "status_updates",
    "job_failures",
    "jobs_out_of_retries",
}


def test_the_metrics_the_monitoring_needs_exist(terraform_config: TerraformConfig) -> None:
    assert set(metrics(terraform_config)) == EXPECTED_METRICS


@pytest.mark.parametrize("name", sorted(EXPECTED_METRICS))
def test_every_metric_matches_lines_the_code_writes_and_finds_its_labels(
    terraform_config: TerraformConfig, entries: list[LogEntry], name: str
) -> None:
    found = matched(terraform_config, name, entries)
    assert found, f"{name}: its filter matches no line the code writes"
    for label, spec in metrics(terraform_config)[name]["labels"].items():
        for entry in found:
            assert field_value(spec["extract"], entry) is not None, (
                f"{name}.{label} missing in {entry.payload}"
            )


def values_of(found: list[LogEntry], field: str) -> list[str]:
    return [_as_text(entry.payload[field]) for entry in found]


def test_webhook_outcomes_count_started_duplicate_and_ignored(
    terraform_config: TerraformConfig, entries: list[LogEntry]
) -> None:
    found = matched(terraform_config, "webhook_outcomes", entries)
    assert sorted(values_of(found, "outcome")) == ["duplicate", "ignored", "started"]


def test_refused_requests_name_the_status_and_the_error(
    terraform_config: TerraformConfig, entries: list[LogEntry]
) -> None:
    found = matched(terraform_config, "refused_requests", entries)
    refused = [
        (
            entry.resource["labels"]["service_name"],
            _as_text(entry.payload["http_status"]),
            entry.payload["error"],
        )
        for entry in found
    ]
    assert sorted(refused) == [
        (WEBHOOK_SERVICE, "401", "invalid_signature"),
        (WEBHOOK_SERVICE, "503", "engine_unavailable"),
        (STATUS_SERVICE, "503", "medusa_unavailable"),
    ]


def test_status_updates_tell_applied_refused_and_terminal(
    terraform_config: TerraformConfig, entries: list[LogEntry]
) -> None:
    found = matched(terraform_config, "status_updates", entries)
    seen = [
        (e.payload["status"], e.payload["applied"], e.payload["reason"], e.payload["terminal"]) for e in found
    ]
    assert seen == [
        ("payment_verified", True, "", False),
        ("completed", True, "", True),
        ("payment_verified", False, "stale", False),
    ]


def test_only_a_failure_without_retries_counts_as_out_of_retries(
    terraform_config: TerraformConfig, entries: list[LogEntry]
) -> None:
    # Within the outage window a failure keeps the job's retries; after it, none are left.
    assert values_of(matched(terraform_config, "job_failures", entries), "retries_left") == ["3", "0"]
    assert values_of(matched(terraform_config, "jobs_out_of_retries", entries), "retries_left") == ["0"]


def alerts(config: TerraformConfig) -> dict[str, dict[str, Any]]:
    return {name: dict(body) for name, body in config.of_type(ALERT).items()}


def test_every_alert_notifies_the_configured_channels(terraform_config: TerraformConfig) -> None:
    found = alerts(terraform_config)
    assert set(found) == {"function_5xx", "worker_failing", "jobs_out_of_retries", "stalled_orders"}
    for name, body in found.items():
        assert body["notification_channels"] == "${var.alert_notification_channels}", name
        assert "documentation" in body, name


def test_the_5xx_alert_watches_both_functions(terraform_config: TerraformConfig) -> None:
    body = alerts(terraform_config)["function_5xx"]
    [dynamic] = [block["conditions"] for block in body["dynamic"] if "conditions" in block]
    assert dynamic["for_each"] == "${local.function_names}"
    assert set(terraform_config.locals["function_names"]) == {"webhook", "status"}
    condition = dynamic["content"][0]["condition_threshold"][0]
    assert (
        'response_code_class=\\"5xx\\"' in condition["filter"]
        or 'response_code_class="5xx"' in condition["filter"]
    )
    assert "${conditions.value}" in condition["filter"]


def test_the_worker_alert_watches_failed_task_attempts_and_executions(
    terraform_config: TerraformConfig,
) -> None:
    filters = [
        c["condition_threshold"][0]["filter"]
        for c in alerts(terraform_config)["worker_failing"]["conditions"]
    ]
    assert any("job/completed_task_attempt_count" in text for text in filters)
    assert any("job/completed_execution_count" in text for text in filters)
    for text in filters:
        assert "google_cloud_run_v2_job.worker.name" in text
        assert "failed" in text


def test_incident_and_stalled_order_alerts_use_the_metrics(terraform_config: TerraformConfig) -> None:
    found = alerts(terraform_config)
    incident = found["jobs_out_of_retries"]["conditions"][0]["condition_threshold"][0]["filter"]
    assert 'google_logging_metric.counted["jobs_out_of_retries"].name' in incident
    query = found["stalled_orders"]["conditions"][0]["condition_prometheus_query_language"][0]["query"]
    # Started: the processes the order webhook started; finished: the terminal statuses that landed.
    assert 'local.promql_webhook_outcomes}{outcome="started"}' in query
    assert query.count("local.promql_status_updates") == 1
    assert 'terminal="true",applied="true"' in query
    assert "offset ${var.stalled_order_minutes}m" in query


def test_the_stalled_order_query_names_the_status_metric_as_promql_does(
    terraform_config: TerraformConfig,
) -> None:
    # PromQL spells logging.googleapis.com/user/NAME as logging_googleapis_com:user_NAME, - becoming _.
    [resource] = terraform_config.of_type(METRIC).values()
    assert resource["name"] == "${var.name_prefix}_${each.key}"
    assert terraform_config.locals["promql_status_updates"] == (
        'logging_googleapis_com:user_${replace("${var.name_prefix}_status_updates", "-", "_")}'
    )


def test_the_dashboard_charts_every_metric(terraform_config: TerraformConfig) -> None:
    text = (REPO_ROOT / "terraform" / "monitoring.tf").read_text()
    charts = text[text.index("dashboard_charts = [") :]
    for name in EXPECTED_METRICS:
        assert f'google_logging_metric.counted["{name}"].name' in charts, name
    assert DASHBOARD in text
