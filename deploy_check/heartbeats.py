"""Whether a worker is polling the engine, from what the workers log.

A worker logs `{"event": "worker_heartbeat", "polling": true|false}` every WORKER_HEARTBEAT_SECONDS
(worker_job/heartbeat.py), and `engine_reachable` / `engine_unreachable` whenever its link to the engine
changes (worker_job/gateway_link.py). On Google Cloud the check asks Cloud Logging for a polling heartbeat
of the worker job or pool in the last minutes (the filter of the "no worker polling" alert in
terraform/monitoring.tf); on the local stack it reads devstack's worker process state and log.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Protocol

import httpx

from devstack.processes import running_parts

LOGGING_ENTRIES_URL: Final = "https://logging.googleapis.com/v2/entries:list"
LOGGING_READ_SCOPE: Final = "https://www.googleapis.com/auth/logging.read"
MAX_PAGES: Final = 5
WORKER_PART: Final = "worker"
# The lines in which a worker says whether it polls, and what each says.
_POLLING_EVENTS: Final = {"engine_reachable": True, "engine_unreachable": False}
_HEARTBEAT_EVENT: Final = "worker_heartbeat"
# devstack writes this before each start of a part into its log (devstack/processes.py).
_START_MARKER: Final = "--- "


@dataclass(frozen=True)
class Sighting:
    """When a worker was last seen polling (None: not within the window), and what was seen instead."""

    polling_at: datetime | None
    detail: str


class HeartbeatSource(Protocol):
    def last_polling(self, since: datetime) -> Sighting:
        """The latest sign, not older than `since`, that a worker polls the engine."""
        ...


# --- Google Cloud ----------------------------------------------------------------------------------------
class LoggingApi:
    """Cloud Logging's `entries.list` (REST v2, cloud.google.com/logging/docs/reference/v2/rest/v2/entries/
    list), newest entry first, with a bearer token from `token`."""

    def __init__(self, token: Callable[[], str], timeout_seconds: float = 10.0) -> None:
        self._token = token
        self._http = httpx.Client(timeout=timeout_seconds)

    def latest_entry(self, project_id: str, log_filter: str) -> dict[str, Any] | None:
        body: dict[str, Any] = {
            "resourceNames": [f"projects/{project_id}"],
            "filter": log_filter,
            "orderBy": "timestamp desc",
            "pageSize": 1,
        }
        headers = {"Authorization": f"Bearer {self._token()}"}
        # A page may come back empty with a nextPageToken while the search goes on (the method's reference).
        for _ in range(MAX_PAGES):
            response = self._http.post(LOGGING_ENTRIES_URL, json=body, headers=headers)
            response.raise_for_status()
            answer = response.json()
            if answer.get("entries"):
                return dict(answer["entries"][0])
            if not answer.get("nextPageToken"):
                return None
            body["pageToken"] = answer["nextPageToken"]
        return None


def application_default_token() -> str:
    """An access token of the caller's Application Default Credentials, for reading logs."""
    import google.auth
    from google.auth.transport.requests import Request

    credentials, _ = google.auth.default(scopes=[LOGGING_READ_SCOPE])
    credentials.refresh(Request())  # type: ignore[no-untyped-call]
    return str(credentials.token)


class CloudLoggingHeartbeats:
    """Polling heartbeats of the worker job or pool, from Cloud Logging."""

    def __init__(self, api: Any, project_id: str, worker_filter: str) -> None:
        # `api` is a LoggingApi or anything with its latest_entry.
        self._api = api
        self._project_id = project_id
        self._worker_filter = worker_filter

    def log_filter(self, since: datetime) -> str:
        return (
            f'{self._worker_filter} AND jsonPayload.event="{_HEARTBEAT_EVENT}" '
            f'AND jsonPayload.polling=true AND timestamp>="{since.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"'
        )

    def last_polling(self, since: datetime) -> Sighting:
        try:
            entry = self._api.latest_entry(self._project_id, self.log_filter(since))
        except (httpx.HTTPError, OSError) as error:
            return Sighting(None, f"Cloud Logging could not be asked: {type(error).__name__}: {error}")
        if entry is None:
            return Sighting(None, f"no {_HEARTBEAT_EVENT} line with polling=true since {since:%H:%M} UTC")
        seen = datetime.fromisoformat(str(entry["timestamp"]).replace("Z", "+00:00"))
        return Sighting(seen, f"{_HEARTBEAT_EVENT} polling=true at {seen:%H:%M:%S} UTC")


def worker_log_filter(job_name: str | None, pool_name: str | None) -> str:
    """The workers' log resource, as terraform/monitoring.tf names it for each runtime."""
    if pool_name:
        return f'resource.type="cloud_run_worker_pool" AND resource.labels.worker_pool_name="{pool_name}"'
    if job_name:
        return f'resource.type="cloud_run_job" AND resource.labels.job_name="{job_name}"'
    raise ValueError("Terraform's outputs name neither worker_job_name nor worker_pool_name")


# --- the local stack -------------------------------------------------------------------------------------
class DevstackWorkerLog:
    """devstack's worker: its process (`.run/pids/worker.json`) and its log (`.run/logs/worker.log`).

    Polling means: the process still runs, and the last thing its current run said about the engine is
    that it polls (its `engine_reachable` line at the first poll, then its heartbeats)."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.log_path = run_dir / "logs" / f"{WORKER_PART}.log"

    def last_polling(self, since: datetime) -> Sighting:
        if WORKER_PART not in running_parts(self.run_dir):
            return Sighting(None, f"no worker process runs (devstack's {self.run_dir / 'pids'})")
        said = _last_polling_word(self._current_run_lines())
        if said is None:
            return Sighting(None, f"the worker runs but has not polled the engine yet ({self.log_path})")
        polling, at = said
        if not polling:
            return Sighting(None, f"the worker runs but said at {at:%H:%M:%S} UTC that it is NOT polling")
        if at < since:
            return Sighting(None, f"the worker last said it polls at {at:%H:%M:%S} UTC, too long ago")
        return Sighting(at, f"the worker runs and said at {at:%H:%M:%S} UTC that it polls")

    def _current_run_lines(self) -> list[str]:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return []
        starts = [index for index, line in enumerate(lines) if line.startswith(_START_MARKER)]
        return lines[starts[-1] + 1 :] if starts else lines


def _last_polling_word(lines: list[str]) -> tuple[bool, datetime] | None:
    for entry in reversed(list(_json_entries(lines))):
        event = entry.get("event")
        polling = entry.get("polling") if event == _HEARTBEAT_EVENT else _POLLING_EVENTS.get(str(event))
        if isinstance(polling, bool) and isinstance(entry.get("time"), str):
            return polling, datetime.fromisoformat(entry["time"])
    return None


def _json_entries(lines: list[str]) -> Iterator[dict[str, Any]]:
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            yield entry
