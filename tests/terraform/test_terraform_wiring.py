"""The Terraform config wires each part the way its code expects (offline: no provider, no cloud)."""

from __future__ import annotations

import re
from collections.abc import Mapping

import pytest

from . import wiring
from .paths import FUNCTIONS_DIR, TERRAFORM_DIR
from .wiring import INCIDENT_CHECKER, WORKER, WORKER_POOL_COMPONENT, SettingsSpec, TerraformConfig

COMPONENTS = ("order_webhook", "status_update", WORKER, WORKER_POOL_COMPONENT, INCIDENT_CHECKER)


def test_every_entry_point_exists_in_the_code(terraform_config: TerraformConfig) -> None:
    assert wiring.check_entry_points(terraform_config, FUNCTIONS_DIR) == []


@pytest.mark.parametrize("component", COMPONENTS)
def test_each_component_gets_exactly_the_settings_it_reads(
    terraform_config: TerraformConfig, settings_specs: Mapping[str, SettingsSpec], component: str
) -> None:
    if component not in settings_specs:
        pytest.skip(f"{component}: its settings class is not in the code yet (worker_job.check_incidents)")
    assert wiring.check_env_matches_settings(terraform_config, settings_specs, only=[component]) == []


@pytest.mark.parametrize(
    "check", [name for name in wiring.ALL_CHECKS if name != "check_env_matches_settings"]
)
def test_config_passes(terraform_config: TerraformConfig, check: str) -> None:
    assert getattr(wiring, check)(terraform_config) == []


def test_components_are_the_functions_the_worker_and_the_incident_checker(
    terraform_config: TerraformConfig,
) -> None:
    found = wiring.components(terraform_config)
    assert set(found) == set(COMPONENTS)
    accounts = {name: component.service_account for name, component in found.items()}
    assert accounts == {
        "order_webhook": "webhook",
        "status_update": "status",
        WORKER: "worker",
        WORKER_POOL_COMPONENT: "worker",  # the same component, deployed one way or the other
        INCIDENT_CHECKER: "incident_checker",
    }


# The secrets table of terraform/README.md ("3. Add the secret values"): secret => the service accounts
# that may read it.
SECRET_READERS = {
    "ORDER_WEBHOOK_SECRET": {"webhook"},
    "MEDUSA_WORKER_SECRET": {"worker"},
    "MEDUSA_STATUS_SECRET": {"status"},
    "STATUS_UPDATE_SECRET": {"worker", "status"},
    "WEBHOOK_CAMUNDA_CLIENT_SECRET": {"webhook"},
    "WORKER_CAMUNDA_CLIENT_SECRET": {"worker"},
    "INCIDENT_CHECKER_CAMUNDA_CLIENT_SECRET": {"incident_checker"},
}
PLUGIN_OPTIONS = {
    "webhookSecret": "ORDER_WEBHOOK_SECRET",
    "workerSecret": "MEDUSA_WORKER_SECRET",
    "statusSecret": "MEDUSA_STATUS_SECRET",
}


def test_secret_settings_per_component_match_the_plan(terraform_config: TerraformConfig) -> None:
    """The secrets each component gets, as the deployment guide documents them (README, step 3)."""
    found = wiring.components(terraform_config)
    sources = {name: dict(component.secret_sources) for name, component in found.items()}
    assert sources["order_webhook"] == {
        "ORDER_WEBHOOK_SECRET": "ORDER_WEBHOOK_SECRET",
        "ZEEBE_CLIENT_SECRET": "WEBHOOK_CAMUNDA_CLIENT_SECRET",
    }
    assert sources["status_update"] == {
        "STATUS_UPDATE_SECRET": "STATUS_UPDATE_SECRET",
        "MEDUSA_STATUS_SECRET": "MEDUSA_STATUS_SECRET",
    }
    worker = {
        "STATUS_UPDATE_SECRET": "STATUS_UPDATE_SECRET",
        "MEDUSA_WORKER_SECRET": "MEDUSA_WORKER_SECRET",
        "ZEEBE_CLIENT_SECRET": "WORKER_CAMUNDA_CLIENT_SECRET",
    }
    assert sources[WORKER] == sources[WORKER_POOL_COMPONENT] == worker
    assert sources[INCIDENT_CHECKER] == {"ZEEBE_CLIENT_SECRET": "INCIDENT_CHECKER_CAMUNDA_CLIENT_SECRET"}


def test_each_secret_is_readable_by_its_consumers_only(terraform_config: TerraformConfig) -> None:
    assert set(terraform_config.locals["secret_ids"]) == set(SECRET_READERS)
    assert wiring.secret_readers(terraform_config) == SECRET_READERS


def test_no_medusa_admin_key_in_terraform(terraform_config: TerraformConfig) -> None:
    """Neither the config nor its guide holds, names or asks for a Medusa secret API key."""
    assert wiring.check_no_medusa_admin_key(terraform_config) == []
    assert "MEDUSA_API_KEY" not in terraform_config.locals["secret_ids"]
    for component in wiring.components(terraform_config).values():
        assert "MEDUSA_API_KEY" not in component.plain_env | component.secret_env, component.name


def test_the_webhook_gets_no_medusa_setting(terraform_config: TerraformConfig) -> None:
    assert wiring.check_webhook_has_no_medusa_setting(terraform_config) == []
    found = wiring.components(terraform_config)
    for component in ("status_update", WORKER, WORKER_POOL_COMPONENT):
        assert "MEDUSA_BACKEND_URL" in found[component].plain_env, component
    assert not {name for name in found[INCIDENT_CHECKER].plain_env if name.startswith("MEDUSA_")}


def test_each_plugin_option_is_tied_to_its_secret(terraform_config: TerraformConfig) -> None:
    """The output medusa_plugin_secrets and the README's secrets table pair each option with its secret."""
    assert terraform_config.locals["medusa_plugin_options"] == PLUGIN_OPTIONS
    output = (TERRAFORM_DIR / "outputs.tf").read_text(encoding="utf-8")
    assert "local.medusa_plugin_options" in output
    readme_rows = [
        line for line in terraform_config.documents["README.md"].splitlines() if line.startswith("|")
    ]
    for option, setting in PLUGIN_OPTIONS.items():
        assert any(f"(`{setting}`)" in row and f"`{option}`" in row for row in readme_rows), option


def test_settings_specs_see_the_secrets(settings_specs: Mapping[str, SettingsSpec]) -> None:
    """Guards the derivation itself: SecretStr settings are recognised as secrets."""
    assert {"ORDER_WEBHOOK_SECRET", "ZEEBE_CLIENT_SECRET"} <= settings_specs["order_webhook"].secret_names
    assert "MEDUSA_STATUS_SECRET" in settings_specs["status_update"].secret_names
    assert "MEDUSA_WORKER_SECRET" in settings_specs[WORKER].secret_names
    assert "MEDUSA_BACKEND_URL" in settings_specs["status_update"].required
    assert "MEDUSA_BACKEND_URL" not in settings_specs["status_update"].secret_names


def test_every_checkov_waiver_gives_a_reason(terraform_config: TerraformConfig) -> None:
    waivers = [
        (file_name, match)
        for file_name, text in terraform_config.texts.items()
        for match in re.finditer(r"checkov:skip=([A-Z0-9_]+)(?::(.*))?", text)
    ]
    assert waivers, "the webhook's public ingress must carry a waiver"
    for file_name, match in waivers:
        reason = (match.group(2) or "").strip()
        assert len(reason) >= 30, f"{file_name}: waiver {match.group(1)} needs a reason"


def test_the_functions_come_from_one_map_and_keep_their_state(terraform_config: TerraformConfig) -> None:
    """One resource per key of local.functions; each key's function was `google_cloudfunctions2_function.KEY`
    before the map, so a moved block carries its state over instead of destroying and recreating it."""
    keys = set(terraform_config.locals["functions"])
    assert keys == {"webhook", "status"}
    addresses = {component.address for component in wiring.components(terraform_config).values()}
    assert {f'{wiring.FUNCTION}.function["{key}"]' for key in keys} <= addresses
    moved = [
        block
        for text in terraform_config.texts.values()
        for block in wiring.parse_text(text).get("moved", [])
    ]
    assert {(m["from"], m["to"]) for m in moved} >= {
        (f"${{{wiring.FUNCTION}.{key}}}", f'${{{wiring.FUNCTION}.function["{key}"]}}') for key in keys
    }
