"""What the check reads of a deployment: the tfvars and Terraform's outputs, or devstack's run directory."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from deploy_check import deployment as deployment_module
from deploy_check.cli import main
from deploy_check.deployment import (
    CLOUD_REDO,
    LOCAL_REDO,
    DeploymentUnreadable,
    cloud_deployment,
    load_deployment,
    local_deployment,
    read_tfvars,
)
from deploy_check.heartbeats import CloudLoggingHeartbeats, DevstackWorkerLog
from deploy_check.secret_store import DevstackSecrets, SecretManagerSecrets
from deploy_check.settings import REPO_ROOT, DeployCheckSettings

CI_TFVARS = REPO_ROOT / "terraform" / "ci.tfvars"
OUTPUTS: dict[str, dict[str, Any]] = {
    "order_webhook_url": {"value": "https://fulfillment-order-webhook-abc.a.run.app", "type": "string"},
    "worker_job_name": {"value": "fulfillment-worker", "type": "string"},
    "worker_pool_name": {"value": None, "type": "string"},
    "secret_ids": {
        "value": {
            "ORDER_WEBHOOK_SECRET": "fulfillment-order-webhook-secret",
            "MEDUSA_WORKER_SECRET": "fulfillment-medusa-worker-secret",
            "WORKER_CAMUNDA_CLIENT_SECRET": "fulfillment-worker-camunda-client-secret",
        },
        "type": ["map", "string"],
    },
}


@pytest.fixture
def no_google_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deployment_module, "_secret_manager_client", lambda: object())


def outputs_file(tmp_path: Path, outputs: dict[str, Any] = OUTPUTS) -> Path:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    return path


@pytest.mark.usefixtures("no_google_clients")
def test_google_cloud_reads_the_tfvars_and_terraforms_outputs(tmp_path: Path) -> None:
    # A deployment in the middle of a rotation: the webhook secret pinned to its second version.
    tfvars = tmp_path / "rotating.tfvars"
    tfvars.write_text(CI_TFVARS.read_text() + '\nsecret_versions = { ORDER_WEBHOOK_SECRET = "2" }\n')
    settings = DeployCheckSettings(tfvars=tfvars, terraform_outputs=outputs_file(tmp_path))

    deployment = load_deployment(settings)

    assert deployment.order_webhook_url == "https://fulfillment-order-webhook-abc.a.run.app"
    assert deployment.medusa_url == "https://shop-backend.example.com"
    assert deployment.redo == CLOUD_REDO
    assert isinstance(deployment.secrets, SecretManagerSecrets)
    assert deployment.secrets.settings == tuple(OUTPUTS["secret_ids"]["value"])
    assert deployment.secrets.where("ORDER_WEBHOOK_SECRET") == (
        "Secret Manager secret fulfillment-order-webhook-secret version 2"
    )
    assert deployment.secrets.where("WORKER_CAMUNDA_CLIENT_SECRET").endswith("version 1")
    # The worker's own Camunda client, as terraform/locals.tf gives it to the worker.
    assert deployment.camunda == {
        "camunda_api_url": "https://bru-2.zeebe.camunda.io/0a1b2c3d-4e5f-6789-abcd-ef0123456789",
        "camunda_cluster_id": "0a1b2c3d-4e5f-6789-abcd-ef0123456789",
        "camunda_cluster_region": "bru-2",
        "zeebe_client_id": "example-worker-client",
    }
    assert deployment.camunda_secret_setting == "WORKER_CAMUNDA_CLIENT_SECRET"
    assert isinstance(deployment.heartbeats, CloudLoggingHeartbeats)
    since = datetime(2026, 12, 5, tzinfo=UTC)
    assert 'resource.labels.job_name="fulfillment-worker"' in deployment.heartbeats.log_filter(since)


@pytest.mark.usefixtures("no_google_clients")
def test_before_a_first_deploy_the_outputs_say_so() -> None:
    tfvars = read_tfvars(CI_TFVARS)

    with pytest.raises(DeploymentUnreadable, match="secret_ids is empty: run `make deploy` first"):
        cloud_deployment(tfvars, {**{k: v["value"] for k, v in OUTPUTS.items()}, "secret_ids": {}}, 5)
    with pytest.raises(DeploymentUnreadable, match="no order_webhook_url"):
        cloud_deployment(tfvars, {"secret_ids": {"A": "a"}, "worker_job_name": "w"}, 5)
    with pytest.raises(DeploymentUnreadable, match="do not set medusa_backend_url"):
        cloud_deployment({"project_id": "p"}, {k: v["value"] for k, v in OUTPUTS.items()}, 5)


def test_a_missing_tfvars_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(DeploymentUnreadable, match="cannot read the tfvars"):
        read_tfvars(tmp_path / "terraform.tfvars")


def test_the_local_stack_is_read_from_its_run_directory(tmp_path: Path) -> None:
    state = {
        "order_webhook_url": "http://127.0.0.1:8081/",
        "medusa_url": "http://127.0.0.1:9000",
        "engine_http_url": "http://127.0.0.1:26501",
    }
    (tmp_path / "stack.json").write_text(json.dumps(state))

    deployment = local_deployment(tmp_path)

    assert deployment.order_webhook_url == "http://127.0.0.1:8081/"
    assert deployment.medusa_url == "http://127.0.0.1:9000"
    assert deployment.camunda == {"camunda_api_url": "http://127.0.0.1:26501"}
    assert deployment.camunda_secret_setting is None
    assert deployment.redo == LOCAL_REDO
    assert isinstance(deployment.secrets, DevstackSecrets)
    assert deployment.secrets.path == tmp_path / "secrets.json"
    assert isinstance(deployment.heartbeats, DevstackWorkerLog)


def test_no_local_stack_exits_2_with_one_line(tmp_path: Path) -> None:
    console = Console(record=True, width=400)

    code = main(["--local", "--run-dir", str(tmp_path)], console=console)

    printed = console.export_text()
    assert code == 2
    assert f"cannot check: no local stack in {tmp_path}" in printed
    assert "start it with `make up`" in printed
