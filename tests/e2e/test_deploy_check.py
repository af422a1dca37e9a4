"""`make deploy-check --local` against the real local stack: it passes while every piece works, and with
each piece broken in turn it fails, naming the piece and the step to redo. Each test repairs what it broke,
so the one session stack serves them all."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from devstack.stack import REPO_ROOT, Stack, new_webhook_secret
from fulfillment.workflow import BPMN_PATH

from .support import guarding_webhook, log_lines, poll

CHECKS = ("secrets", "webhook", "worker routes", "status route", "model", "worker")
_VERDICT = re.compile(r"^(PASS|FAIL) (secrets|webhook|worker routes|status route|model|worker): (.*)$")


class Report:
    def __init__(self, done: subprocess.CompletedProcess[str]) -> None:
        self.exit_code = done.returncode
        self.text = done.stdout + done.stderr
        self.verdicts: dict[str, str] = {}
        self.said: dict[str, str] = {}
        self.redo: dict[str, str] = {}
        last = ""
        for line in done.stdout.splitlines():
            if match := _VERDICT.match(line):
                last = match[2]
                self.verdicts[last], self.said[last] = match[1], match[3]
            elif line.strip().startswith("redo: ") and last:
                self.redo[last] = line.strip().removeprefix("redo: ")

    def failed(self) -> set[str]:
        return {check for check, verdict in self.verdicts.items() if verdict == "FAIL"}


def deploy_check(stack: Stack, *extra: str) -> Report:
    command = [sys.executable, "-m", "deploy_check", "--local", "--run-dir", str(stack.run_dir), *extra]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, cwd=REPO_ROOT, check=False)
    report = Report(done)
    assert set(report.verdicts) == set(CHECKS), report.text
    return report


def assert_only_failed(report: Report, *checks: str) -> None:
    assert report.exit_code == 1, report.text
    assert report.failed() == set(checks), report.text
    for check in checks:
        assert report.redo.get(check), f"no step to redo for {check}:\n{report.text}"


@pytest.fixture(scope="module", autouse=True)
def polling_worker(stack: Stack) -> None:
    """The worker has said it polls (its first long poll came back) before the first check runs."""
    wait_for_polling_worker(stack)


def wait_for_polling_worker(stack: Stack, seen_before: int = 0) -> None:
    """Waits for the worker's `engine_reachable` line after the `seen_before` ones of earlier runs."""
    log = stack.group.get("worker").log_path
    poll(lambda: polling_lines(stack) > seen_before, 60, lambda: f"the worker to poll ({log})")


def polling_lines(stack: Stack) -> int:
    return len(log_lines(stack.run_dir / "logs" / "worker.log", '"engine_reachable"'))


@contextmanager
def secrets_file_changed(stack: Stack, **changes: str | None) -> Iterator[None]:
    """The local stack's secret store holding other values (None: the key removed) than the running parts
    were started with, as Secret Manager would after a version was added and not rolled out."""
    path = stack.run_dir / "secrets.json"
    original = path.read_text()
    values = json.loads(original)
    for key, value in changes.items():
        if value is None:
            values.pop(key)
        else:
            values[key] = value
    path.write_text(json.dumps(values))
    try:
        yield
    finally:
        path.write_text(original)


def test_a_working_stack_passes_every_check(stack: Stack) -> None:
    report = deploy_check(stack)

    assert report.exit_code == 0, report.text
    assert report.failed() == set(), report.text
    assert "answered 202 ignored" in report.said["webhook"]
    assert "answered 404 for an order that does not exist" in report.said["worker routes"]
    assert "answered 404 for an order that does not exist" in report.said["status route"]
    assert "is deployed" in report.said["model"]
    assert "polls" in report.said["worker"]


def test_a_webhook_with_another_secret_fails_the_webhook_check(stack: Stack) -> None:
    with contextmanager(guarding_webhook)(stack):
        report = deploy_check(stack)

    assert_only_failed(report, "webhook")
    assert "answered 401" in report.said["webhook"]


def test_a_worker_secret_medusa_does_not_hold_fails_the_worker_routes(stack: Stack) -> None:
    with secrets_file_changed(stack, medusa_worker=new_webhook_secret()):
        report = deploy_check(stack)

    assert_only_failed(report, "worker routes")
    assert "answered 401" in report.said["worker routes"]
    assert "workerSecret" in report.redo["worker routes"]


def test_a_status_secret_medusa_does_not_hold_fails_the_status_route(stack: Stack) -> None:
    with secrets_file_changed(stack, medusa_status=new_webhook_secret()):
        report = deploy_check(stack)

    assert_only_failed(report, "status route")
    assert "answered 401" in report.said["status route"]
    assert "statusSecret" in report.redo["status route"]


def test_a_missing_secret_fails_the_secrets_check_and_what_needs_it(stack: Stack) -> None:
    with secrets_file_changed(stack, medusa_status=None):
        report = deploy_check(stack)

    assert_only_failed(report, "secrets", "status route")
    assert "MEDUSA_STATUS_SECRET" in report.said["secrets"]
    assert "not checked: MEDUSA_STATUS_SECRET" in report.said["status route"]


def test_medusa_down_fails_both_plugin_route_checks(stack: Stack) -> None:
    stack.stop_part("medusa")
    try:
        report = deploy_check(stack)
    finally:
        stack.start_medusa()

    assert_only_failed(report, "worker routes", "status route")
    assert "cannot be used" in report.said["worker routes"]
    assert "cannot be used" in report.said["status route"]


def test_a_checkout_newer_than_the_deployed_model_fails_the_model_check(stack: Stack, tmp_path: Path) -> None:
    newer = tmp_path / BPMN_PATH.name
    model, replaced = re.subn(r'(<zeebe:versionTag value=")[^"]+"', r'\g<1>999.0.0"', BPMN_PATH.read_text())
    assert replaced == 1
    newer.write_text(model)

    report = deploy_check(stack, "--bpmn", str(newer))

    assert_only_failed(report, "model")
    assert "999.0.0 (this checkout's) is not deployed: Camunda's latest is" in report.said["model"]


def test_no_worker_running_fails_the_worker_check(stack: Stack) -> None:
    seen_before = polling_lines(stack)
    stack.stop_part("worker")
    try:
        report = deploy_check(stack)
    finally:
        stack.start_worker()
        wait_for_polling_worker(stack, seen_before)

    assert_only_failed(report, "worker")
    assert "no worker process runs" in report.said["worker"]
