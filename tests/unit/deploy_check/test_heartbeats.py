"""Where the check sees a polling worker: Cloud Logging (with a fake API) and devstack's worker log."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from deploy_check.heartbeats import (
    LOGGING_ENTRIES_URL,
    CloudLoggingHeartbeats,
    DevstackWorkerLog,
    LoggingApi,
    worker_log_filter,
)
from devstack.processes import process_start_time

SINCE = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)
JOB_FILTER = 'resource.type="cloud_run_job" AND resource.labels.job_name="fulfillment-worker"'


class FakeLoggingApi:
    def __init__(self, entry: dict[str, Any] | None = None, error: Exception | None = None) -> None:
        self.entry = entry
        self.error = error
        self.asked: list[tuple[str, str]] = []

    def latest_entry(self, project_id: str, log_filter: str) -> dict[str, Any] | None:
        self.asked.append((project_id, log_filter))
        if self.error:
            raise self.error
        return self.entry


def test_a_polling_heartbeat_in_the_window_is_a_polling_worker() -> None:
    api = FakeLoggingApi({"timestamp": "2026-12-05T02:07:31.123456789Z", "jsonPayload": {"polling": True}})

    sighting = CloudLoggingHeartbeats(api, "shop-prod", JOB_FILTER).last_polling(SINCE)

    assert sighting.polling_at == datetime(2026, 12, 5, 2, 7, 31, 123456, tzinfo=UTC)
    [(project, log_filter)] = api.asked
    assert project == "shop-prod"
    assert log_filter.startswith(JOB_FILTER)
    assert 'jsonPayload.event="worker_heartbeat"' in log_filter
    assert "jsonPayload.polling=true" in log_filter
    # RFC 3339 in UTC, as Cloud Logging's query language documents it.
    assert 'timestamp>="2026-12-05T02:00:00Z"' in log_filter


def test_no_heartbeat_or_no_answer_is_no_polling_worker() -> None:
    quiet = CloudLoggingHeartbeats(FakeLoggingApi(None), "shop-prod", JOB_FILTER).last_polling(SINCE)
    failing = CloudLoggingHeartbeats(
        FakeLoggingApi(error=httpx.ConnectError("no route")), "shop-prod", JOB_FILTER
    ).last_polling(SINCE)

    assert quiet.polling_at is None
    assert "no worker_heartbeat line with polling=true since 02:00" in quiet.detail
    assert failing.polling_at is None
    assert "Cloud Logging could not be asked" in failing.detail


def test_the_worker_resource_follows_the_runtime() -> None:
    assert worker_log_filter("fulfillment-worker", None) == JOB_FILTER
    assert worker_log_filter(None, "fulfillment-worker") == (
        'resource.type="cloud_run_worker_pool" AND resource.labels.worker_pool_name="fulfillment-worker"'
    )
    with pytest.raises(ValueError, match="neither"):
        worker_log_filter(None, None)


@respx.mock
def test_the_logging_api_asks_for_the_newest_entry_with_a_bearer_token() -> None:
    route = respx.post(LOGGING_ENTRIES_URL).respond(json={"entries": [{"timestamp": "t"}]})

    entry = LoggingApi(lambda: "token-1").latest_entry("shop-prod", "a filter")

    assert entry == {"timestamp": "t"}
    request = route.calls.last.request
    assert request.headers["Authorization"] == "Bearer token-1"
    assert json.loads(request.content) == {
        "resourceNames": ["projects/shop-prod"],
        "filter": "a filter",
        "orderBy": "timestamp desc",
        "pageSize": 1,
    }


# --- devstack's worker ---------------------------------------------------------------------------------
def line(event: str, at: datetime, **fields: Any) -> str:
    return json.dumps({"severity": "INFO", "event": event, "time": at.isoformat(), **fields})


def run_dir_with(tmp_path: Path, log: list[str], *, running: bool = True) -> Path:
    """A devstack run directory whose worker is this very test process (alive), or a dead PID."""
    (tmp_path / "pids").mkdir()
    (tmp_path / "logs").mkdir()
    pid = os.getpid()
    record = {
        "name": "worker",
        "pid": pid,
        "start_time": process_start_time(pid) if running else "1",
        "stop_signal": 15,
        "log": str(tmp_path / "logs" / "worker.log"),
        "order": 1,
    }
    (tmp_path / "pids" / "worker.json").write_text(json.dumps(record))
    (tmp_path / "logs" / "worker.log").write_text("\n".join(log) + "\n")
    return tmp_path


def test_a_running_worker_whose_last_word_is_polling_polls(tmp_path: Path) -> None:
    at = SINCE + timedelta(minutes=3)
    log = ["--- 02:00:00 starting: python -m worker_job", line("engine_reachable", at), "plain text line"]

    sighting = DevstackWorkerLog(run_dir_with(tmp_path, log)).last_polling(SINCE)

    assert sighting.polling_at == at


@pytest.mark.parametrize(
    ("log", "words"),
    [
        (["--- 02:00:00 starting: python -m worker_job"], "has not polled the engine yet"),
        (
            [
                line("engine_reachable", SINCE + timedelta(minutes=1)),
                line("worker_heartbeat", SINCE + timedelta(minutes=2), polling=False),
            ],
            "NOT polling",
        ),
        ([line("engine_reachable", SINCE - timedelta(minutes=1))], "too long ago"),
        (
            # An earlier run polled; the current one has not yet.
            [line("engine_reachable", SINCE + timedelta(minutes=1)), "--- 02:05:00 starting: worker"],
            "has not polled the engine yet",
        ),
    ],
)
def test_a_running_worker_that_does_not_say_it_polls_does_not_poll(
    tmp_path: Path, log: list[str], words: str
) -> None:
    sighting = DevstackWorkerLog(run_dir_with(tmp_path, log)).last_polling(SINCE)

    assert sighting.polling_at is None
    assert words in sighting.detail


def test_a_worker_that_no_longer_runs_does_not_poll(tmp_path: Path) -> None:
    log = [line("engine_reachable", SINCE + timedelta(minutes=1))]

    sighting = DevstackWorkerLog(run_dir_with(tmp_path, log, running=False)).last_polling(SINCE)

    assert sighting.polling_at is None
    assert "no worker process runs" in sighting.detail


@respx.mock
def test_the_logging_api_follows_empty_pages_while_the_search_goes_on() -> None:
    route = respx.post(LOGGING_ENTRIES_URL)
    route.side_effect = [
        httpx.Response(200, json={"nextPageToken": "p2"}),
        httpx.Response(200, json={"entries": [{"timestamp": "t"}]}),
    ]

    entry = LoggingApi(lambda: "token-1").latest_entry("shop-prod", "a filter")

    assert entry == {"timestamp": "t"}
    assert json.loads(route.calls.last.request.content)["pageToken"] == "p2"
