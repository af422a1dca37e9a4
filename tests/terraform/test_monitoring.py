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

from fulfillment.errors import EngineUnavailable
from fulfillment.intake import Cancellation, Start
from fulfillment.logs import setup_logging
from fulfillment.workflow import WorkflowStatus
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

    def publish_order_placed(
        self, order_id: str, variables: Mapping[str, Any], message_id: str | None = None
    ) -> Start:
        if order_id == ENGINE_DOWN_ORDER_ID:
            raise EngineUnavailable("gateway unreachable")
        if order_id in self.seen:
            return "duplicate"
        self.seen.add(order_id)
        return "started"

    def publish_order_canceled(self, order_id: str) -> Cancellation:
        return (
            "canceled" if self.publish_order_placed(f"{order_id}.canceled", {}) == "started" else "duplicate"
        )


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
    return {"type": "order.placed", "occurred_at": "2026-11-28T08:00:01.000Z", "data": data}


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


INCIDENT_CHECKER_JOB: Final = f"{PREFIX}-incidents"
WORKER_POOL: Final = f"{PREFIX}-worker"
# The lines the worker's heartbeat and the incident checker write, in the shape their contract fixes
# (docs/runbook.md quotes them); the worker's and the checker's own tests assert that the code writes them.
HEARTBEAT_LINES: Final = (
    {"event": "worker_heartbeat", "polling": True, "active_jobs": 3, "job_types": ["verify-payment"]},
    {"event": "worker_heartbeat", "polling": False, "active_jobs": 0, "job_types": ["verify-payment"]},
)
INCIDENT_CHECKER_LINES: Final = (
    {
        "event": "incident_open",
        "incident_key": "2251799813685300",
        "process_instance_key": "2251799813685249",
        "bpmn_process_id": "order-fulfillment",
        "error_type": "EXTRACT_VALUE_ERROR",
        "error_message": "failed to evaluate expression 'payment_recheck_interval'",
        "created_at": "2026-11-28T08:00:00.000Z",
        "order_id": ORDER_ID,
    },
    {"event": "incident_check", "open_incidents": 1},
    {"event": "incident_check_failed", "error": "Camunda's API unreachable: connection refused"},
)


def worker_resource(runtime: str) -> dict[str, Any]:
    if runtime == "worker_pool":
        return {"type": "cloud_run_worker_pool", "labels": {"worker_pool_name": WORKER_POOL}}
    return {"type": "cloud_run_job", "labels": {"job_name": WORKER_JOB}}


@pytest.fixture(scope="module")
def entries() -> Iterator[list[LogEntry]]:
    import asyncio

    with pytest.MonkeyPatch.context() as monkeypatch:
        for name in ("ORDER_WEBHOOK_SECRET", "STATUS_UPDATE_SECRET", "ZEEBE_ADDRESS", "MEDUSA_MAX_ATTEMPTS"):
            monkeypatch.delenv(name, raising=False)
        found = [LogEntry(function_resource(WEBHOOK_SERVICE), line) for line in webhook_lines(monkeypatch)]
        found += [LogEntry(function_resource(STATUS_SERVICE), line) for line in status_lines(monkeypatch)]
        worker = worker_resource("job")
        found += [LogEntry(worker, line) for line in asyncio.run(worker_lines())]
        found += [LogEntry(worker, line) for line in HEARTBEAT_LINES]
        checker = {"type": "cloud_run_job", "labels": {"job_name": INCIDENT_CHECKER_JOB}}
        found += [LogEntry(checker, line) for line in INCIDENT_CHECKER_LINES]
        yield found
    setup_logging("tests")


# ---------------------------------------------------------------------------------------------------------
# Evaluating the config's filters
# ---------------------------------------------------------------------------------------------------------
def interpolate(config: TerraformConfig, text: str, runtime: str = "job") -> str:
    """Replaces ${local.a.b}, ${local.a[var.worker_runtime]} and ${var.name_prefix} until none is left (the
    config's defaults, and the given worker runtime)."""

    def value(match: re.Match[str]) -> str:
        path = match.group(1).replace("[var.worker_runtime]", f".{runtime}").split(".")
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
        text, count = re.subn(r"\$\{([a-z_.]+(?:\[var\.worker_runtime\])?)\}", value, text)
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


def matched(
    config: TerraformConfig, name: str, entries: list[LogEntry], runtime: str = "job"
) -> list[LogEntry]:
    text = interpolate(config, metrics(config)[name]["filter"], runtime)
    return [entry for entry in entries if matches(text, entry)]


# ---------------------------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------------------------
EXPECTED_METRICS: Final = {
    "webhook_outcomes",
    "refused_requests",
    "status_updates",
    "job_failures",
    "jobs_out_of_retries",
    "worker_heartbeats",
    "open_incidents",
    "incident_checks",
    "incident_check_failures",
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


def listed_statuses(description: str) -> list[str]:
    """The statuses of a label description "true for a, b, c and d"."""
    listing = description.removeprefix("true for ")
    assert listing != description, f"not a list of statuses: {description!r}"
    return [name.strip() for name in re.split(r",| and ", listing)]


def test_the_terminal_label_names_exactly_the_statuses_the_code_marks_terminal(
    terraform_config: TerraformConfig,
) -> None:
    label = metrics(terraform_config)["status_updates"]["labels"]["terminal"]
    listed = listed_statuses(label["description"])
    assert len(listed) == len(set(listed)), "a status is listed twice"
    assert set(listed) == {status.value for status in WorkflowStatus if status.terminal}


def test_the_terminal_label_reading_catches_a_stale_status() -> None:
    """Guards the reading itself: a status the code no longer has is read as a name, not skipped."""
    assert listed_statuses("true for completed, failed and canceled") == ["completed", "failed", "canceled"]


def test_only_a_failure_without_retries_counts_as_out_of_retries(
    terraform_config: TerraformConfig, entries: list[LogEntry]
) -> None:
    # Within the outage window a failure keeps the job's retries; after it, none are left.
    assert values_of(matched(terraform_config, "job_failures", entries), "retries_left") == ["3", "0"]
    assert values_of(matched(terraform_config, "jobs_out_of_retries", entries), "retries_left") == ["0"]


def alerts(config: TerraformConfig) -> dict[str, dict[str, Any]]:
    return {name: dict(body) for name, body in config.of_type(ALERT).items()}


ALERTS: Final = {
    "function_5xx",
    "worker_failing",
    "jobs_out_of_retries",
    "no_worker_polling",
    "open_incidents",
    "incident_checker_failing",
    "webhook_refusals",
    "stalled_orders",
}


def test_every_alert_notifies_the_configured_channels(terraform_config: TerraformConfig) -> None:
    found = alerts(terraform_config)
    assert set(found) == ALERTS
    for name, body in found.items():
        assert body["notification_channels"] == "${var.alert_notification_channels}", name


def runbook_anchors() -> set[str]:
    """GitHub's anchors for the headings of docs/runbook.md."""
    text = (REPO_ROOT / "docs" / "runbook.md").read_text(encoding="utf-8")
    headings = re.findall(r"^#{2,4} (.+)$", text, re.M)
    return {re.sub(r"[^a-z0-9 -]", "", heading.lower()).replace(" ", "-") for heading in headings}


@pytest.mark.parametrize("name", sorted(ALERTS))
def test_every_alert_says_what_it_means_what_to_check_what_to_do_and_links_the_runbook(
    terraform_config: TerraformConfig, name: str
) -> None:
    [documentation] = alerts(terraform_config)[name]["documentation"]
    assert documentation["content"] == f"${{local.alert_documentation_text.{name}}}"
    doc = terraform_config.locals["alert_documentation"][name]
    for part in ("means", "check", "act"):
        assert len(doc[part]) >= 40, f"{name}.{part} says too little"
    assert doc["page"] in runbook_anchors(), f"docs/runbook.md has no section #{doc['page']}"
    assert "${var.runbook_url}#${doc.page}" in terraform_config.locals["alert_documentation_text"]


def test_a_plan_without_a_notification_channel_is_refused_unless_on_purpose(
    terraform_config: TerraformConfig,
) -> None:
    """tests/terraform/test_variable_validation.py runs this guard; here: it is the one the config has."""
    guards = terraform_config.of_type("terraform_data")["guards"]
    conditions = [rule["condition"] for rule in guards["lifecycle"][0]["precondition"]]
    assert "${length(var.alert_notification_channels) > 0 || var.alerts_without_notification}" in conditions


def condition(config: TerraformConfig, alert: str, kind: str, index: int = 0) -> dict[str, Any]:
    return dict(alerts(config)[alert]["conditions"][index][kind][0])


def test_the_5xx_alert_watches_both_functions_for_a_sustained_time(terraform_config: TerraformConfig) -> None:
    body = alerts(terraform_config)["function_5xx"]
    [dynamic] = [block["conditions"] for block in body["dynamic"] if "conditions" in block]
    assert dynamic["for_each"] == "${local.function_names}"
    assert set(terraform_config.locals["function_names"]) == {"webhook", "status"}
    threshold = dynamic["content"][0]["condition_threshold"][0]
    assert (
        'response_code_class=\\"5xx\\"' in threshold["filter"]
        or 'response_code_class="5xx"' in threshold["filter"]
    )
    assert "${conditions.value}" in threshold["filter"]
    # A short blip (senders retry 503s) does not page: the rate must hold for alert_5xx_minutes (default 10).
    assert threshold["duration"] == "${var.alert_5xx_minutes * 60}s"
    assert terraform_config.variables["alert_5xx_minutes"]["default"] >= 5


def test_the_worker_alert_watches_failed_task_attempts_and_executions(
    terraform_config: TerraformConfig,
) -> None:
    body = alerts(terraform_config)["worker_failing"]
    assert body["count"] == "${local.worker_on_job ? 1 : 0}"  # a worker pool has no executions
    filters = [c["condition_threshold"][0]["filter"] for c in body["conditions"]]
    assert any("job/completed_task_attempt_count" in text for text in filters)
    assert any("job/completed_execution_count" in text for text in filters)
    for text in filters:
        assert "local.worker_job_name" in text
        assert "failed" in text


@pytest.mark.parametrize("runtime", ["job", "worker_pool"])
def test_heartbeats_are_counted_for_either_worker_runtime(
    terraform_config: TerraformConfig, entries: list[LogEntry], runtime: str
) -> None:
    pool_entries = [LogEntry(worker_resource("worker_pool"), line) for line in HEARTBEAT_LINES]
    found = matched(terraform_config, "worker_heartbeats", [*entries, *pool_entries], runtime)
    assert [entry.resource["type"] for entry in found] == [worker_resource(runtime)["type"]] * 2
    assert values_of(found, "polling") == ["true", "false"]


def test_no_worker_polling_fires_after_five_minutes_without_a_polling_heartbeat(
    terraform_config: TerraformConfig,
) -> None:
    absent = condition(terraform_config, "no_worker_polling", "condition_absent")
    assert 'google_logging_metric.counted["worker_heartbeats"].name' in absent["filter"]
    assert (
        'metric.labels.polling=\\"true\\"' in absent["filter"]
        or 'metric.labels.polling="true"' in absent["filter"]
    )
    assert "local.worker_resource_type" in absent["filter"]
    assert absent["duration"] == "300s"
    # The heartbeat comes at least every 2 minutes, so a running worker never looks absent.
    assert (
        "var.worker_heartbeat_seconds"
        in terraform_config.locals["worker_env_candidates"]["WORKER_HEARTBEAT_SECONDS"]
    )


def test_an_open_incident_alerts_within_ten_minutes(
    terraform_config: TerraformConfig, entries: list[LogEntry]
) -> None:
    found = matched(terraform_config, "open_incidents", entries)
    assert values_of(found, "error_type") == ["EXTRACT_VALUE_ERROR"]
    threshold = condition(terraform_config, "open_incidents", "condition_threshold")
    assert 'google_logging_metric.counted["open_incidents"].name' in threshold["filter"]
    assert threshold["threshold_value"] == 0
    assert threshold["comparison"] == "COMPARISON_GT"
    # Seen by the next check (every 5 minutes), counted in the next 5-minute window: within 10 minutes.
    assert terraform_config.locals["incident_check_schedule"] == "*/5 * * * *"
    assert threshold["duration"] == "0s"
    assert threshold["aggregations"][0]["alignment_period"] == "300s"


def test_the_incident_checker_failing_alerts_three_ways(
    terraform_config: TerraformConfig, entries: list[LogEntry]
) -> None:
    assert len(matched(terraform_config, "incident_check_failures", entries)) == 1
    assert len(matched(terraform_config, "incident_checks", entries)) == 1
    conditions = alerts(terraform_config)["incident_checker_failing"]["conditions"]
    texts = [str(c) for c in conditions]
    assert 'counted["incident_check_failures"]' in texts[0]
    assert "job/completed_execution_count" in texts[1]
    assert "local.incident_checker_job_name" in texts[1]
    assert 'counted["incident_checks"]' in texts[2]
    assert "condition_absent" in conditions[2]


def test_webhook_refusals_alert_on_401_and_400_from_the_webhook_only(
    terraform_config: TerraformConfig, entries: list[LogEntry]
) -> None:
    threshold = condition(terraform_config, "webhook_refusals", "condition_threshold")
    assert 'google_logging_metric.counted["refused_requests"].name' in threshold["filter"]
    assert "local.function_names.webhook" in threshold["filter"]
    assert (
        'monitoring.regex.full_match(\\"400|401\\")' in threshold["filter"]
        or 'full_match("400|401")' in threshold["filter"]
    )
    # The code's refusals the alert counts: the webhook's 401 (its 503 and the status function's are not).
    refused = matched(terraform_config, "refused_requests", entries)
    counted = [
        e
        for e in refused
        if e.resource["labels"]["service_name"] == WEBHOOK_SERVICE
        and str(e.payload["http_status"]) in ("400", "401")
    ]
    assert [entry.payload["error"] for entry in counted] == ["invalid_signature"]


def test_incident_and_stalled_order_alerts_use_the_metrics(terraform_config: TerraformConfig) -> None:
    found = alerts(terraform_config)
    incident = found["jobs_out_of_retries"]["conditions"][0]["condition_threshold"][0]["filter"]
    assert 'google_logging_metric.counted["jobs_out_of_retries"].name' in incident
    query = found["stalled_orders"]["conditions"][0]["condition_prometheus_query_language"][0]["query"]
    # Started: the processes the order webhook started; finished: the terminal statuses that landed.
    assert 'local.promql_webhook_outcomes}{outcome="started"}' in query
    assert 'terminal="true",applied="true"' in query
    assert "offset ${var.stalled_order_minutes}m" in query
    # Orders waiting for their payment are not stalled: those that entered the wait are subtracted.
    assert 'status="awaiting_payment",applied="true"' in query
    assert query.count("local.promql_status_updates") == 2


def test_no_reservation_timer_is_described_anywhere(terraform_config: TerraformConfig) -> None:
    """The model has no 15-minute reservation timer any more; the only timer is the payment re-check."""
    for file_name, text in {**terraform_config.texts, **terraform_config.documents}.items():
        assert "reservation timer" not in text, file_name
        assert "reservation step times out" not in text, file_name


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
