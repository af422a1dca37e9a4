"""Fixtures for the Terraform wiring tests: the parsed config and what each component's code reads."""

from __future__ import annotations

import importlib
from collections.abc import Mapping

import pytest
from pydantic_settings import BaseSettings

from fulfillment.settings import StatusSettings, WebhookSettings
from worker_job.config import WorkerJobSettings

from .paths import TERRAFORM_DIR
from .wiring import (
    INCIDENT_CHECKER,
    WORKER,
    WORKER_POOL_COMPONENT,
    SettingsSpec,
    TerraformConfig,
    parse_config,
    served_by_functions_framework,
    settings_spec,
)

INCIDENT_CHECKER_MODULE = "worker_job.check_incidents"


def incident_checker_settings() -> type[BaseSettings] | None:
    """The settings class `python -m worker_job.check_incidents` loads: the one in its module that reads
    CAMUNDA_API_URL. None while that module does not exist."""
    try:
        module = importlib.import_module(INCIDENT_CHECKER_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name != INCIDENT_CHECKER_MODULE:
            raise
        return None
    found = {
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, BaseSettings)
        and "camunda_api_url" in value.model_fields
    }
    if len(found) != 1:
        raise AssertionError(
            f"{INCIDENT_CHECKER_MODULE}: expected one settings class with camunda_api_url: {found}"
        )
    return found.pop()


@pytest.fixture(scope="session")
def terraform_config() -> TerraformConfig:
    return parse_config(TERRAFORM_DIR)


@pytest.fixture(scope="session")
def settings_specs() -> Mapping[str, SettingsSpec]:
    """Component (entry point, the worker as job or pool, the incident checker) -> the settings its code
    loads. The incident checker is left out while its module does not exist (tests that need it skip)."""
    specs = {
        "order_webhook": served_by_functions_framework(settings_spec(WebhookSettings)),
        "status_update": served_by_functions_framework(settings_spec(StatusSettings)),
        WORKER: settings_spec(WorkerJobSettings),
        WORKER_POOL_COMPONENT: settings_spec(WorkerJobSettings),
    }
    checker = incident_checker_settings()
    if checker is not None:
        specs[INCIDENT_CHECKER] = settings_spec(checker)
    return specs
