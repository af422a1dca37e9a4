"""The model deploy step and the worker's start check, as real processes against the real local engine.

`python -m worker_job.deploy_model` deploys bpmn/ through the gateway and reads the deployed versions through
the engine's REST API; `python -m worker_job` checks at start, through the same API, that the version of
the model it handles is deployed. Every test gets a fresh engine, so it sees only its own deployments.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from pyzeebe.proto import gateway_pb2 as pb
from pyzeebe.proto.gateway_pb2_grpc import GatewayStub

from devstack.stack import local_deploy_settings
from fulfillment.camunda_api import CamundaApi, ProcessDefinition
from fulfillment.process_model import VersionTag, handled_model
from fulfillment.workflow import BPMN_PATH, PROCESS_ID
from localzeebe.launcher import LocalEngine
from worker_job.deploy_model import deploy_models

from .test_worker import STATUS_SECRET, WORKER_SECRET

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
CURRENT = handled_model().version_tag
NEWER = VersionTag.parse(f"{CURRENT.numbers[0] + 1}.0.0")


@dataclass
class Run:
    code: int
    lines: list[dict[str, Any]]


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[LocalEngine]:
    with LocalEngine.start(log_path=tmp_path / "engine.log") as launched:
        yield launched


def environment(engine: LocalEngine, **settings: str) -> dict[str, str]:
    """The environment of this machine without any of the project's settings, plus the given ones."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ZEEBE_", "CAMUNDA_"))}
    return {**env, "ZEEBE_ADDRESS": engine.grpc_address, "CAMUNDA_API_URL": engine.http_url, **settings}


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def deploy_step(engine: LocalEngine, *arguments: str) -> Run:
    result = subprocess.run(
        [sys.executable, "-m", "worker_job.deploy_model", *arguments],
        cwd=REPO,
        env=environment(engine),
        capture_output=True,
        text=True,
        timeout=120,
    )
    return Run(result.returncode, json_lines(result.stdout))


def latest(engine: LocalEngine) -> ProcessDefinition | None:
    with CamundaApi(engine.http_url) as api:
        return api.latest_process_definition(PROCESS_ID)


def model_copy(directory: Path, version_tag: str | None) -> Path:
    """The project's model under another version tag (None: without one, as before version tags)."""
    text = BPMN_PATH.read_text()
    current = f'<zeebe:versionTag value="{CURRENT}" />'
    assert current in text
    directory.mkdir(parents=True, exist_ok=True)
    replacement = f'<zeebe:versionTag value="{version_tag}" />' if version_tag else ""
    (directory / BPMN_PATH.name).write_text(text.replace(current, replacement))
    return directory


def deploy_release(engine: LocalEngine, directory: Path) -> None:
    """What the deploy step of another release (its own bpmn/) did."""
    deploy_models(local_deploy_settings(engine.grpc_address, engine.http_url), directory)


# --- the deploy step ------------------------------------------------------------------------------------
def test_the_first_deploy_deploys_the_model_and_the_same_version_again_deploys_nothing(
    engine: LocalEngine,
) -> None:
    first = deploy_step(engine)
    deployed = latest(engine)
    second = deploy_step(engine)

    assert first.code == 0
    assert [(line["event"], line["outcome"], line["version"]) for line in first.lines] == [
        ("model_deploy", "deployed", 1)
    ]
    assert deployed is not None
    assert (deployed.version, deployed.version_tag) == (1, CURRENT.text)
    assert second.code == 0
    assert [(line["outcome"], line["deployed_version"]) for line in second.lines] == [("unchanged", 1)]
    assert latest(engine) == deployed


def test_a_dry_run_says_what_it_would_deploy_and_deploys_nothing(engine: LocalEngine) -> None:
    run = deploy_step(engine, "--dry-run")

    assert run.code == 0
    assert [line["outcome"] for line in run.lines] == ["would_deploy"]
    assert latest(engine) is None


def test_the_deploy_step_refuses_to_make_an_older_model_the_latest(
    engine: LocalEngine, tmp_path: Path
) -> None:
    deploy_release(engine, model_copy(tmp_path / "newer-release", NEWER.text))

    run = deploy_step(engine)
    after = latest(engine)

    assert run.code == 2
    [refusal] = run.lines
    assert (refusal["severity"], refusal["outcome"]) == ("ERROR", "refused")
    assert (refusal["version_tag"], refusal["deployed_version_tag"]) == (CURRENT.text, NEWER.text)
    assert f"refusing to deploy {PROCESS_ID} {CURRENT}" in refusal["message"]
    assert f"is {NEWER}, newer" in refusal["message"]
    assert after is not None
    assert (after.version, after.version_tag) == (1, NEWER.text)


def test_a_newer_model_replaces_one_deployed_before_version_tags(engine: LocalEngine, tmp_path: Path) -> None:
    untagged = model_copy(tmp_path / "before-tags", None) / BPMN_PATH.name
    with grpc.insecure_channel(engine.grpc_address) as channel:
        resource = pb.Resource(name=untagged.name, content=untagged.read_bytes())
        GatewayStub(channel).DeployResource(pb.DeployResourceRequest(resources=[resource]), timeout=10)

    run = deploy_step(engine)
    after = latest(engine)

    assert run.code == 0
    assert [(line["outcome"], line["deployed_version_tag"]) for line in run.lines] == [("deployed", None)]
    assert after is not None
    assert (after.version, after.version_tag) == (2, CURRENT.text)


# --- the worker's start check ----------------------------------------------------------------------------
@dataclass
class Worker:
    process: subprocess.Popen[str]
    log: Path

    def lines(self) -> list[dict[str, Any]]:
        return json_lines(self.log.read_text())

    def wait_for(self, message: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not any(line.get("message") == message for line in self.lines()):
            assert self.process.poll() is None, f"the worker exited: {self.log.read_text()[-2000:]}"
            assert time.monotonic() < deadline, f"no {message!r}: {self.log.read_text()[-2000:]}"
            time.sleep(0.05)


@pytest.fixture
def start_worker(engine: LocalEngine, tmp_path: Path) -> Iterator[Any]:
    started: list[Worker] = []

    def start(**settings: str) -> Worker:
        log = tmp_path / f"worker-{len(started)}.log"
        env = environment(
            engine,
            MEDUSA_BACKEND_URL="http://127.0.0.1:9",  # no order is placed: the worker never calls it
            MEDUSA_WORKER_SECRET=WORKER_SECRET,
            STATUS_UPDATE_URL="http://127.0.0.1:9",
            STATUS_UPDATE_SECRET=STATUS_SECRET,
            **settings,
        )
        with log.open("w") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "worker_job"],
                cwd=REPO,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                text=True,
            )
        started.append(Worker(process, log))
        return started[-1]

    yield start
    for worker in started:
        if worker.process.poll() is None:
            worker.process.kill()
            worker.process.wait(10)


def the_check(worker: Worker) -> list[dict[str, Any]]:
    return [line for line in worker.lines() if line.get("event") == "model_check"]


def test_a_worker_whose_model_is_not_deployed_exits_2_saying_what_to_run(
    engine: LocalEngine, start_worker: Any
) -> None:
    worker = start_worker()

    assert worker.process.wait(60) == 2
    [check] = the_check(worker)
    assert (check["severity"], check["outcome"], check["version_tag"]) == (
        "ERROR",
        "not_deployed",
        CURRENT.text,
    )
    assert "run `python -m worker_job.deploy_model`" in check["message"]
    assert latest(engine) is None


def test_an_old_worker_starting_after_a_newer_model_changes_nothing(
    engine: LocalEngine, start_worker: Any, tmp_path: Path
) -> None:
    """This worker's model is older than the newer release's, which was deployed after it."""
    deploy_release(engine, model_copy(tmp_path / "this-release", CURRENT.text))
    deploy_release(engine, model_copy(tmp_path / "newer-release", NEWER.text))

    worker = start_worker()
    worker.wait_for("worker started")
    after = latest(engine)
    worker.process.send_signal(signal.SIGTERM)

    assert worker.process.wait(30) == 0
    assert [(c["outcome"], c["version"]) for c in the_check(worker)] == [("deployed", 1)]
    assert after is not None
    assert (after.version, after.version_tag) == (2, NEWER.text)


def test_an_old_worker_whose_model_was_never_deployed_exits_and_changes_nothing(
    engine: LocalEngine, start_worker: Any, tmp_path: Path
) -> None:
    deploy_release(engine, model_copy(tmp_path / "newer-release", NEWER.text))

    worker = start_worker()

    assert worker.process.wait(60) == 2
    assert [c["outcome"] for c in the_check(worker)] == ["not_deployed"]
    after = latest(engine)
    assert after is not None
    assert (after.version, after.version_tag) == (1, NEWER.text)


def test_a_worker_that_cannot_reach_the_api_exits_3_after_its_grace(start_worker: Any) -> None:
    worker = start_worker(CAMUNDA_API_URL="http://127.0.0.1:9", WORKER_UNHEALTHY_EXIT_SECONDS="1")

    assert worker.process.wait(60) == 3
    assert [c["outcome"] for c in the_check(worker)] == ["unreachable"]
