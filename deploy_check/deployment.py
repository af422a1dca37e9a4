"""The deployment under check: where its parts are, where its secrets are, what to redo when a check fails.

`cloud_deployment` reads what `make deploy` reads (the shop's tfvars) and what it made (Terraform's
outputs); `local_deployment` reads devstack's run directory (`stack.json`, `secrets.json`, the worker's
process and log).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from deploy_check.heartbeats import (
    CloudLoggingHeartbeats,
    DevstackWorkerLog,
    HeartbeatSource,
    LoggingApi,
    application_default_token,
    worker_log_filter,
)
from deploy_check.secret_store import (
    WORKER_CAMUNDA_SECRET,
    DevstackSecrets,
    SecretManagerSecrets,
    SecretStore,
)
from deploy_check.settings import REPO_ROOT, DeployCheckSettings

TERRAFORM_DIR: Final = REPO_ROOT / "terraform"
# tfvars => the Camunda API setting each one becomes for the worker (terraform/locals.tf, worker_env).
_CAMUNDA_VARIABLES: Final = {
    "camunda_api_url": "camunda_api_url",
    "camunda_api_audience": "camunda_api_audience",
    "camunda_cluster_id": "camunda_cluster_id",
    "camunda_cluster_region": "camunda_cluster_region",
    "zeebe_authorization_server_url": "zeebe_authorization_server_url",
    "zeebe_token_audience": "zeebe_token_audience",
}


class DeploymentUnreadable(Exception):
    """The check's inputs are missing or malformed: nothing can be checked."""


@dataclass(frozen=True)
class Redo:
    """The step to redo when a check fails, in the deployment's own terms."""

    secrets: str
    webhook_signature: str
    webhook_url: str
    # Formatted with {option} (the plugin option) and {where} (where the right value is).
    plugin_option: str
    medusa: str
    model: str
    camunda: str
    worker: str


CLOUD_REDO: Final = Redo(
    secrets="rerun `make deploy` (its step 'Secret values' adds a missing version), and pin that version in "
    "secret_versions",
    webhook_signature="rerun `make deploy` (its step 'Deployment' moves the function onto the pinned "
    "version: a secret given as an environment variable is read when an instance starts)",
    webhook_url="check Terraform's output order_webhook_url; rerun `make deploy` (its step 'Deployment') "
    "if the function is missing",
    plugin_option="set the plugin option {option} to {where} (the block `make deploy` prints for "
    "medusa-config.ts) and restart Medusa",
    medusa="check medusa_backend_url in the tfvars, that Medusa runs, and that the plugin is installed "
    "(medusa/plugin/README.md)",
    model="rerun `make deploy` (its step 'Process model' deploys bpmn/ to Camunda)",
    camunda="check the Camunda settings in the tfvars (camunda_api_url, camunda_cluster_id, "
    "camunda_client_ids.worker) and the worker's client secret",
    worker="rerun `make deploy` (its steps 'Worker image' and 'Deployment'); "
    'docs/runbook.md, "No worker polling"',
)

LOCAL_REDO: Final = Redo(
    secrets="restart the local stack: `make down && make up` (devstack writes .run/secrets.json at start)",
    webhook_signature="restart the local stack (`make down && make up`): its order webhook runs with another "
    "secret than .run/secrets.json holds",
    webhook_url="start the local stack: `make up`",
    plugin_option="restart the local stack (`make down && make up`): Medusa's option {option} is not {where}",
    medusa="start the local stack (`make up`), or read .run/logs/medusa.log",
    model="restart the local stack (`make down && make up`): it deploys bpmn/ when the engine starts",
    camunda="start the local stack (`make up`), or read .run/logs/engine.log",
    worker="restart the local stack (`make down && make up`), or read .run/logs/worker.log",
)


@dataclass(frozen=True)
class Deployment:
    description: str
    order_webhook_url: str
    medusa_url: str
    secrets: SecretStore
    heartbeats: HeartbeatSource
    redo: Redo
    # CamundaApiSettings' fields for the worker's API client, without its secret ...
    camunda: Mapping[str, str] = field(default_factory=dict)
    # ... which is this setting of the secret store, when the worker has a Camunda client.
    camunda_secret_setting: str | None = None


def load_deployment(settings: DeployCheckSettings) -> Deployment:
    if settings.local:
        return local_deployment(settings.run_dir)
    outputs = _terraform_outputs(settings.terraform_outputs)
    return cloud_deployment(read_tfvars(settings.tfvars), outputs, settings.timeout_seconds)


# --- the local stack -------------------------------------------------------------------------------------
def local_deployment(run_dir: Path) -> Deployment:
    try:
        state = json.loads((run_dir / "stack.json").read_text())
    except (OSError, ValueError) as error:
        raise DeploymentUnreadable(
            f"no local stack in {run_dir} ({error}): start it with `make up`, or name its --run-dir"
        ) from None
    return Deployment(
        description=f"the local stack in {run_dir}",
        order_webhook_url=str(state["order_webhook_url"]),
        medusa_url=str(state["medusa_url"]),
        secrets=DevstackSecrets(run_dir / "secrets.json"),
        heartbeats=DevstackWorkerLog(run_dir),
        redo=LOCAL_REDO,
        # The local engine serves the API subset the worker's start check uses, without credentials.
        camunda={"camunda_api_url": str(state["engine_http_url"])},
    )


# --- Google Cloud ----------------------------------------------------------------------------------------
def cloud_deployment(
    tfvars: Mapping[str, Any], outputs: Mapping[str, Any], timeout_seconds: float
) -> Deployment:
    project_id = _required(tfvars, "project_id")
    secret_ids = _output(outputs, "secret_ids")
    if not isinstance(secret_ids, dict) or not secret_ids:
        raise DeploymentUnreadable("Terraform's output secret_ids is empty: run `make deploy` first")
    client_ids = tfvars.get("camunda_client_ids") or {}
    camunda = {setting: str(tfvars[name]) for name, setting in _CAMUNDA_VARIABLES.items() if tfvars.get(name)}
    worker_client = client_ids.get("worker") if isinstance(client_ids, dict) else None
    if worker_client:
        camunda["zeebe_client_id"] = str(worker_client)
    heartbeats = CloudLoggingHeartbeats(
        LoggingApi(application_default_token, timeout_seconds),
        project_id,
        worker_log_filter(outputs.get("worker_job_name"), outputs.get("worker_pool_name")),
    )
    return Deployment(
        description=f"Google Cloud project {project_id}",
        order_webhook_url=str(_output(outputs, "order_webhook_url")),
        medusa_url=_required(tfvars, "medusa_backend_url"),
        secrets=SecretManagerSecrets(
            _secret_manager_client(), project_id, secret_ids, tfvars.get("secret_versions") or {}
        ),
        heartbeats=heartbeats,
        redo=CLOUD_REDO,
        camunda=camunda,
        camunda_secret_setting=WORKER_CAMUNDA_SECRET if worker_client else None,
    )


def read_tfvars(path: Path) -> dict[str, Any]:
    import hcl2
    from hcl2 import SerializationOptions

    options = SerializationOptions(strip_string_quotes=True, with_comments=False, explicit_blocks=False)
    try:
        parsed: dict[str, Any] = hcl2.loads(path.read_text(), serialization_options=options)
    except OSError as error:
        raise DeploymentUnreadable(f"cannot read the tfvars {path}: {error} (name them: --tfvars)") from None
    except Exception as error:  # python-hcl2's parse errors have no common base
        raise DeploymentUnreadable(f"cannot parse the tfvars {path}: {error}") from None
    return parsed


def _terraform_outputs(path: Path | None) -> dict[str, Any]:
    """`terraform output -json` as a mapping of output name to value."""
    if path is not None:
        try:
            text = path.read_text()
        except OSError as error:
            raise DeploymentUnreadable(f"cannot read Terraform's outputs {path}: {error}") from None
    else:
        text = _run_terraform_output()
    try:
        raw = json.loads(text)
    except ValueError as error:
        raise DeploymentUnreadable(f"Terraform's outputs are not JSON: {error}") from None
    # `terraform output -json` wraps each value: {"name": {"value": ..., "type": ..., "sensitive": ...}}.
    return {name: entry.get("value") if isinstance(entry, dict) else entry for name, entry in raw.items()}


def _run_terraform_output() -> str:
    try:
        done = subprocess.run(
            ["terraform", f"-chdir={TERRAFORM_DIR}", "output", "-json"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise DeploymentUnreadable(
            f"cannot run `terraform output -json` ({error}): pass its output with --terraform-outputs"
        ) from None
    if done.returncode != 0:
        raise DeploymentUnreadable(f"`terraform output -json` failed: {done.stderr.strip()[:500]}")
    return done.stdout


def _required(tfvars: Mapping[str, Any], name: str) -> str:
    value = tfvars.get(name)
    if not isinstance(value, str) or not value:
        raise DeploymentUnreadable(f"the tfvars do not set {name}")
    return value


def _output(outputs: Mapping[str, Any], name: str) -> Any:
    if outputs.get(name) in (None, ""):
        raise DeploymentUnreadable(f"Terraform's outputs have no {name}: run `make deploy` first")
    return outputs[name]


def _secret_manager_client() -> Any:
    # As fulfillment/secrets.py: the REST transport, created only when Google Cloud is checked.
    from google.cloud import secretmanager

    return secretmanager.SecretManagerServiceClient(transport="rest")
