"""Terraform itself evaluates locals.tf, the settings each component gets, from example variables; the real
settings classes then load the result. So the environment a deployment produces is one the code accepts:
types, conditionals, dropped optional values, the worker's runtime below the task timeout.

Resource attributes (the status function's URL, the image repository) are not known offline; they are
replaced by stub strings before Terraform runs.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Mapping
from typing import Any

import pytest
from pydantic_settings import BaseSettings

from fulfillment.settings import StatusSettings, WebhookSettings
from worker_job.config import WorkerJobSettings

from .conftest import incident_checker_settings
from .paths import TERRAFORM_DIR
from .tfrun import SKIP_REASON, ProviderFreeModule, provider_free_module, terraform_command

# google_TYPE.NAME, NAME["KEY"] for a for_each resource (stubbed as NAME.KEY), then attributes and indexes.
RESOURCE_REFERENCE = re.compile(
    r'\b(google_[a-z0-9_]+)\.([a-z0-9_]+)(?:\["([a-z0-9_]+)"\])?((?:\.[a-z0-9_]+|\[\d+\])*)'
)
STUB_URL = "https://stub.invalid/{}.{}"
EVALUATED = ("webhook", "status", "worker", "incident_checker")
OUTPUTS = "\n".join(
    [f'output "{c}_env" {{\n  value = local.{c}_env\n}}' for c in EVALUATED]
    + [f'output "{c}_secret_env" {{\n  value = local.{c}_secret_env\n}}' for c in EVALUATED]
    + ['output "secret_ids" {\n  value = local.secret_ids\n}']
    + ['output "secret_versions" {\n  value = local.secret_versions\n}']
)
SETTINGS_CLASSES: Mapping[str, type[BaseSettings] | None] = {
    "webhook": WebhookSettings,
    "status": StatusSettings,
    "worker": WorkerJobSettings,
    "incident_checker": incident_checker_settings(),  # None until worker_job.check_incidents exists
}


def whsec(seed: bytes) -> str:
    return "whsec_" + base64.b64encode(seed * 32).decode()


# Per secret (a key of local.secret_ids): the value a deployment would hold.
SECRET_VALUES = {
    "ORDER_WEBHOOK_SECRET": whsec(b"o"),
    "STATUS_UPDATE_SECRET": whsec(b"u"),
    "MEDUSA_WORKER_SECRET": whsec(b"w"),
    "MEDUSA_STATUS_SECRET": whsec(b"s"),
    "WEBHOOK_CAMUNDA_CLIENT_SECRET": "webhook-client-secret",
    "WORKER_CAMUNDA_CLIENT_SECRET": "worker-client-secret",
    "INCIDENT_CHECKER_CAMUNDA_CLIENT_SECRET": "incident-checker-client-secret",
}
# Cleared before each load, so only what Terraform gives a component reaches its settings.
SETTING_PREFIXES = (
    "MEDUSA_",
    "ZEEBE_",
    "CAMUNDA_",
    "ORDER_",
    "STATUS_",
    "WORKER_",
    "PAYMENT_",
    "STOCK_",
    "SMTP_",
    "NOTIFICATION_",
)
MEDUSA_URL = "https://shop-backend.example.com"  # ci.tfvars
SELF_MANAGED = (
    "camunda_cluster_id=",
    "camunda_cluster_region=",
    "zeebe_address=zeebe.shop.example:443",
    "zeebe_authorization_server_url=https://login.shop.example/oauth/token",
    "zeebe_token_audience=zeebe-api",
    'worker_tuning={poll_timeout_seconds=4, name="fulfillment-worker"}',
)


def stub_resources(text: str) -> str:
    def stub(match: re.Match[str]) -> str:
        name = ".".join(part for part in match.group(2, 3) if part)
        return f'"{STUB_URL.format(match.group(1), name)}"'

    return RESOURCE_REFERENCE.sub(stub, text)


@pytest.fixture(scope="module")
def module(tmp_path_factory: pytest.TempPathFactory) -> ProviderFreeModule:
    command = terraform_command()
    if command is None:
        pytest.skip(SKIP_REASON)
    files = {
        "variables.tf": (TERRAFORM_DIR / "variables.tf").read_text(encoding="utf-8"),
        "locals.tf": stub_resources((TERRAFORM_DIR / "locals.tf").read_text(encoding="utf-8")),
        "ci.tfvars": (TERRAFORM_DIR / "ci.tfvars").read_text(encoding="utf-8"),
        "outputs.tf": OUTPUTS + "\n",
    }
    return provider_free_module(tmp_path_factory.mktemp("settings-evaluated"), command, files)


def evaluate(module: ProviderFreeModule, *assignments: str) -> dict[str, Any]:
    """The locals' values for ci.tfvars plus the given variables (an apply with no resources)."""
    variables = [f"-var={assignment}" for assignment in assignments]
    apply = module.run(
        "apply", "-auto-approve", "-input=false", "-no-color", "-var-file=ci.tfvars", *variables
    )
    assert apply.returncode == 0, apply.stderr
    output = module.run("output", "-json", "-no-color")
    assert output.returncode == 0, output.stderr
    return {name: value["value"] for name, value in json.loads(output.stdout).items()}


@pytest.fixture(scope="module")
def saas(module: ProviderFreeModule) -> dict[str, Any]:
    return evaluate(module)


@pytest.fixture(scope="module")
def self_managed(module: ProviderFreeModule) -> dict[str, Any]:
    return evaluate(module, *SELF_MANAGED)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in list(os.environ):
        if name.startswith(SETTING_PREFIXES):
            monkeypatch.delenv(name)
    return monkeypatch


def load(component: str, evaluated: Mapping[str, Any], monkeypatch: pytest.MonkeyPatch) -> Any:
    """The component's settings, loaded from what Terraform gives it (secrets stand in for Secret Manager)."""
    settings_class = SETTINGS_CLASSES[component]
    if settings_class is None:
        pytest.skip(f"{component}: its settings class is not in the code yet (worker_job.check_incidents)")
    environment = {**evaluated[f"{component}_env"]}
    environment.update(
        {name: SECRET_VALUES[secret] for name, secret in evaluated[f"{component}_secret_env"].items()}
    )
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return settings_class()


@pytest.mark.parametrize("component", EVALUATED)
def test_saas_deployment_settings_load(
    saas: dict[str, Any], clean_env: pytest.MonkeyPatch, component: str
) -> None:
    settings = load(component, saas, clean_env)
    if component in ("webhook", "worker"):
        assert settings.engine_mode == "saas"


@pytest.mark.parametrize("component", EVALUATED)
def test_self_managed_deployment_settings_load(
    self_managed: dict[str, Any], clean_env: pytest.MonkeyPatch, component: str
) -> None:
    settings = load(component, self_managed, clean_env)
    if component in ("webhook", "worker"):
        assert settings.engine_mode == "oauth"
        assert settings.zeebe_address == "zeebe.shop.example:443"


@pytest.mark.parametrize(
    ("component", "secret"), [("status", "MEDUSA_STATUS_SECRET"), ("worker", "MEDUSA_WORKER_SECRET")]
)
def test_the_components_that_call_the_plugin_get_medusa_and_their_own_secret(
    saas: dict[str, Any], clean_env: pytest.MonkeyPatch, component: str, secret: str
) -> None:
    medusa_settings = {name for name in saas[f"{component}_env"] if name.startswith("MEDUSA_")}
    expected = {"MEDUSA_BACKEND_URL", "MEDUSA_TIMEOUT_SECONDS", "MEDUSA_MAX_ATTEMPTS"}
    # The worker's calls are limited per process, in rate and in flight (docs/capacity.md); the status
    # function's follow them.
    worker_limits = {"MEDUSA_CALLS_PER_SECOND", "MEDUSA_MAX_CALLS_IN_FLIGHT"}
    assert medusa_settings == (expected | worker_limits if component == "worker" else expected)
    assert [name for name in saas[f"{component}_secret_env"] if name.startswith("MEDUSA_")] == [secret]
    assert saas[f"{component}_secret_env"][secret] == secret
    settings = load(component, saas, clean_env)
    assert settings.medusa_backend_url == MEDUSA_URL
    assert getattr(settings, secret.lower()).get_secret_value() == SECRET_VALUES[secret]


def test_the_webhook_gets_no_medusa_setting(saas: dict[str, Any], self_managed: dict[str, Any]) -> None:
    for evaluated in (saas, self_managed):
        given = [*evaluated["webhook_env"], *evaluated["webhook_secret_env"]]
        assert [name for name in given if name.startswith("MEDUSA_")] == []


def test_worker_gets_its_cloud_settings(saas: dict[str, Any], clean_env: pytest.MonkeyPatch) -> None:
    worker = saas["worker_env"]
    assert worker["STATUS_UPDATE_URL"] == STUB_URL.format(
        "google_cloudfunctions2_function", "function.status"
    )
    assert worker["STATUS_UPDATE_USE_ID_TOKEN"] == "true"
    assert worker["WORKER_MAX_RUNTIME_SECONDS"] == "3900"  # default task timeout 4200 s minus 300 s
    assert worker["WORKER_HEARTBEAT_SECONDS"] == "60"
    assert worker["MEDUSA_CALLS_PER_SECOND"] == "10"
    assert worker["MEDUSA_MAX_CALLS_IN_FLIGHT"] == "8"
    settings = load("worker", saas, clean_env)
    assert settings.status_update_use_id_token is True
    assert settings.medusa_max_calls_in_flight == 8


def test_a_worker_pool_runs_without_a_runtime_limit(module: ProviderFreeModule) -> None:
    """A worker pool has no task timeout: its workers run until Cloud Run stops them (SIGTERM)."""
    pool = evaluate(module, "worker_runtime=worker_pool")
    assert pool["worker_env"]["WORKER_MAX_RUNTIME_SECONDS"] == "0"


def test_each_component_uses_its_own_camunda_client(
    saas: dict[str, Any], self_managed: dict[str, Any]
) -> None:
    """One client per component (ci.tfvars names three), each with its own secret."""
    for evaluated in (saas, self_managed):
        client_ids = {
            c: evaluated[f"{c}_env"]["ZEEBE_CLIENT_ID"] for c in ("webhook", "worker", "incident_checker")
        }
        assert client_ids == {
            "webhook": "example-webhook-client",
            "worker": "example-worker-client",
            "incident_checker": "example-incident-checker-client",
        }
    secrets = {
        c: saas[f"{c}_secret_env"].get("ZEEBE_CLIENT_SECRET")
        for c in ("webhook", "worker", "incident_checker")
    }
    assert secrets == {
        "webhook": "WEBHOOK_CAMUNDA_CLIENT_SECRET",
        "worker": "WORKER_CAMUNDA_CLIENT_SECRET",
        "incident_checker": "INCIDENT_CHECKER_CAMUNDA_CLIENT_SECRET",
    }
    assert "ZEEBE_CLIENT_SECRET" not in saas["status_secret_env"]


def test_the_incident_checker_gets_camunda_api_settings_only(
    saas: dict[str, Any], self_managed: dict[str, Any]
) -> None:
    assert saas["incident_checker_env"] == {
        "CAMUNDA_API_URL": "https://bru-2.zeebe.camunda.io/0a1b2c3d-4e5f-6789-abcd-ef0123456789",
        "ZEEBE_CLIENT_ID": "example-incident-checker-client",
        "CAMUNDA_CLUSTER_ID": "0a1b2c3d-4e5f-6789-abcd-ef0123456789",
        "CAMUNDA_CLUSTER_REGION": "bru-2",
        "CAMUNDA_API_TIMEOUT_SECONDS": "10",
        "CAMUNDA_API_MAX_ATTEMPTS": "3",
    }
    assert self_managed["incident_checker_env"]["ZEEBE_AUTHORIZATION_SERVER_URL"] == (
        "https://login.shop.example/oauth/token"
    )
    assert "CAMUNDA_CLUSTER_ID" not in self_managed["incident_checker_env"]


def test_the_worker_has_no_mail_relay(saas: dict[str, Any], self_managed: dict[str, Any]) -> None:
    """Mail goes with the status write through the plugin to Medusa's Notification Module."""
    for evaluated in (saas, self_managed):
        given = [*evaluated["worker_env"], *evaluated["worker_secret_env"]]
        assert [name for name in given if name.startswith(("SMTP_", "NOTIFICATION_"))] == []


def test_unset_options_are_left_out_not_empty(saas: dict[str, Any], self_managed: dict[str, Any]) -> None:
    for evaluated in (saas, self_managed):
        for component in EVALUATED:
            assert "" not in evaluated[f"{component}_env"].values()
    assert "ZEEBE_ADDRESS" not in saas["webhook_env"]
    assert "CAMUNDA_CLUSTER_ID" not in self_managed["worker_env"]
    assert "WORKER_POLL_TIMEOUT_SECONDS" not in saas["worker_env"]
    assert self_managed["worker_env"]["WORKER_POLL_TIMEOUT_SECONDS"] == "4"


def test_secret_versions_are_version_1_unless_raised_per_setting(
    saas: dict[str, Any], module: ProviderFreeModule
) -> None:
    assert set(saas["secret_versions"].values()) == {"1"}  # what a first deployment creates
    rotating = evaluate(module, 'secret_versions={ORDER_WEBHOOK_SECRET="2",MEDUSA_WORKER_SECRET="3"}')
    assert rotating["secret_versions"] == {
        "ORDER_WEBHOOK_SECRET": "2",  # raised, as a rotation does
        "MEDUSA_WORKER_SECRET": "3",
        "STATUS_UPDATE_SECRET": "1",
        "MEDUSA_STATUS_SECRET": "1",
        "WEBHOOK_CAMUNDA_CLIENT_SECRET": "1",
        "WORKER_CAMUNDA_CLIENT_SECRET": "1",
        "INCIDENT_CHECKER_CAMUNDA_CLIENT_SECRET": "1",
    }
    assert rotating["secret_ids"] == saas["secret_ids"]
    assert saas["secret_ids"] == {
        "ORDER_WEBHOOK_SECRET": "fulfillment-order-webhook-secret",
        "STATUS_UPDATE_SECRET": "fulfillment-status-update-secret",
        "MEDUSA_WORKER_SECRET": "fulfillment-medusa-worker-secret",
        "MEDUSA_STATUS_SECRET": "fulfillment-medusa-status-secret",
        "WEBHOOK_CAMUNDA_CLIENT_SECRET": "fulfillment-webhook-camunda-client-secret",
        "WORKER_CAMUNDA_CLIENT_SECRET": "fulfillment-worker-camunda-client-secret",
        "INCIDENT_CHECKER_CAMUNDA_CLIENT_SECRET": "fulfillment-incidents-camunda-client-secret",
    }


def test_the_settle_interval_reaches_the_worker(
    module: ProviderFreeModule, clean_env: pytest.MonkeyPatch
) -> None:
    evaluated = evaluate(module, "worker_tuning={settle_seconds=5}")

    assert evaluated["worker_env"]["WORKER_SETTLE_SECONDS"] == "5"
    assert load("worker", evaluated, clean_env).worker_settle_seconds == 5
