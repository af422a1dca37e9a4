"""The Terraform config wires each part the way its code expects (offline: no provider, no cloud)."""

from __future__ import annotations

import re
from collections.abc import Mapping

import pytest

from . import wiring
from .paths import FUNCTIONS_DIR
from .wiring import WORKER, SettingsSpec, TerraformConfig


def test_every_entry_point_exists_in_the_code(terraform_config: TerraformConfig) -> None:
    assert wiring.check_entry_points(terraform_config, FUNCTIONS_DIR) == []


def test_each_component_gets_exactly_the_settings_it_reads(
    terraform_config: TerraformConfig, settings_specs: Mapping[str, SettingsSpec]
) -> None:
    assert wiring.check_env_matches_settings(terraform_config, settings_specs) == []


@pytest.mark.parametrize(
    "check", [name for name in wiring.ALL_CHECKS if name != "check_env_matches_settings"]
)
def test_config_passes(terraform_config: TerraformConfig, check: str) -> None:
    assert getattr(wiring, check)(terraform_config) == []


def test_components_are_the_two_functions_and_the_worker(terraform_config: TerraformConfig) -> None:
    found = wiring.components(terraform_config)
    assert set(found) == {"order_webhook", "status_update", WORKER}
    assert {component.service_account for component in found.values()} == {"webhook", "status", "worker"}


def test_secret_settings_per_component_match_the_plan(terraform_config: TerraformConfig) -> None:
    """The accessor grants as the deployment guide documents them (README, "Secrets")."""
    found = wiring.components(terraform_config)
    assert found["order_webhook"].secret_env == {
        "ORDER_WEBHOOK_SECRET",
        "MEDUSA_API_KEY",
        "ZEEBE_CLIENT_SECRET",
    }
    assert found["status_update"].secret_env == {"STATUS_UPDATE_SECRET", "MEDUSA_API_KEY"}
    assert found[WORKER].secret_env == {
        "STATUS_UPDATE_SECRET",
        "MEDUSA_API_KEY",
        "ZEEBE_CLIENT_SECRET",
        "SMTP_PASSWORD",
    }


def test_settings_specs_see_the_secrets(settings_specs: Mapping[str, SettingsSpec]) -> None:
    """Guards the derivation itself: SecretStr settings are recognised as secrets."""
    assert {"ORDER_WEBHOOK_SECRET", "MEDUSA_API_KEY", "ZEEBE_CLIENT_SECRET"} <= settings_specs[
        "order_webhook"
    ].secret_names
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
