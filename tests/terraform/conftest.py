"""Fixtures for the Terraform wiring tests: the parsed config and what each component's code reads."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from fulfillment.settings import StatusSettings, WebhookSettings
from worker_job.config import WorkerJobSettings

from .paths import TERRAFORM_DIR
from .wiring import (
    WORKER,
    SettingsSpec,
    TerraformConfig,
    parse_config,
    served_by_functions_framework,
    settings_spec,
)


@pytest.fixture(scope="session")
def terraform_config() -> TerraformConfig:
    return parse_config(TERRAFORM_DIR)


@pytest.fixture(scope="session")
def settings_specs() -> Mapping[str, SettingsSpec]:
    """Component (entry point, or the worker job) -> the settings class its code loads."""
    return {
        "order_webhook": served_by_functions_framework(settings_spec(WebhookSettings)),
        "status_update": served_by_functions_framework(settings_spec(StatusSettings)),
        WORKER: settings_spec(WorkerJobSettings),
    }
