"""`python -m worker_job.deploy_model [--dry-run]`: the deployment's model step.

Deploys the process models in `bpmn/` through the gateway, unless that would make an older model the
latest: each model carries a version tag (`zeebe:versionTag`, fulfillment/process_model.py), which is
compared with the tag of the latest deployed definition of its process, read through Camunda's REST API.

- nothing deployed yet, or the latest deployed definition has no version tag (it predates them): deploy;
- the same version: nothing is deployed (Zeebe would answer an unchanged model with the existing version
  anyway; a changed model under an unchanged tag is a mistake the tag cannot catch);
- a newer version deployed: refused, nothing is deployed (an old release's deploy step, run again during a
  rollback or a retry, would otherwise make its older model the one new orders start with);
- a tag that is not dotted numbers deployed (by hand): refused, since the order cannot be told.

Workers no longer deploy: they check at start that their model's version is deployed (model_check.py).
After deploying, the step waits until the API shows the new definitions (Camunda's searches read an
exporter's copy a moment behind the engine), so workers started right after it find them.

Settings: the engine's (`ZEEBE_ADDRESS`, OAuth or SaaS credentials) and the API's (`CAMUNDA_API_URL`,
`CAMUNDA_API_AUDIENCE`). Exit codes: 0 deployed or nothing to deploy (with --dry-run: a deploy would be
allowed); 2 refused (one line saying which versions), or a setting is wrong; 3 the engine or the API cannot
be reached; 1 anything else (a model in bpmn/ without a valid tag, the engine refusing the model, the API
refusing the credentials or not showing the deployed model in time).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Final

from pyzeebe import ZeebeClient
from pyzeebe.errors import PyZeebeError
from pyzeebe.grpc_internals.types import DeployResourceResponse
from tenacity import (
    AsyncRetrying,
    before_sleep_log,
    retry_if_exception_type,
    stop_after_delay,
    wait_exponential,
)

from fulfillment.camunda_api import CamundaApi, ProcessDefinition
from fulfillment.engine import UNAVAILABLE_ERRORS, create_channel
from fulfillment.errors import CamundaApiError, CamundaApiRefused, CamundaApiUnavailable, ModelError
from fulfillment.logs import setup_logging
from fulfillment.process_model import BPMN_DIR, ProcessModel, VersionTag, read_models
from fulfillment.settings import ModelDeploySettings, load_settings

logger = logging.getLogger("worker_job.deploy_model")

EXIT_OK: Final = 0
EXIT_FATAL: Final = 1
EXIT_REFUSED: Final = 2
EXIT_UNREACHABLE: Final = 3
# How long an unreachable gateway is retried before the step gives up.
ENGINE_PATIENCE_SECONDS: Final = 120.0
# How long the step waits for the API to show what it deployed.
VISIBILITY_TIMEOUT_SECONDS: Final = 60.0
VISIBILITY_POLL_SECONDS: Final = 0.5


class Action(StrEnum):
    DEPLOY = "deploy"
    UNCHANGED = "unchanged"
    REFUSE = "refuse"


@dataclass(frozen=True)
class Plan:
    """What the step does with one model, given the latest deployed definition of its process."""

    model: ProcessModel
    latest: ProcessDefinition | None
    action: Action
    reason: str


class DeployRefused(Exception):
    """A model in bpmn/ is older than Camunda's latest: nothing was deployed."""


class EngineUnreachable(Exception):
    """The gateway stayed unreachable for the step's patience."""


class DeployFailed(Exception):
    """The engine refused the model, or the API did not show the deployed model in time."""


def plan(model: ProcessModel, latest: ProcessDefinition | None) -> Plan:
    if latest is None:
        return Plan(model, latest, Action.DEPLOY, "no version of the process is deployed yet")
    where = f"Camunda's latest {model.process_id} (version {latest.version})"
    if not latest.version_tag:
        return Plan(model, latest, Action.DEPLOY, f"{where} has no version tag (it predates them)")
    try:
        deployed = VersionTag.parse(latest.version_tag)
    except ValueError:
        why = (
            f"{where} has the version tag {latest.version_tag!r}, which is not dotted numbers, so it cannot "
            "be told whether this model is older"
        )
        return Plan(model, latest, Action.REFUSE, why)
    if deployed > model.version_tag:
        why = (
            f"{where} is {deployed}, newer; deploying would make the older model the one new orders start "
            "with (deploy from the release that carries the newer model)"
        )
        return Plan(model, latest, Action.REFUSE, why)
    if deployed == model.version_tag:
        return Plan(model, latest, Action.UNCHANGED, f"already {where}, nothing to deploy")
    return Plan(model, latest, Action.DEPLOY, f"{where} is {deployed}, older")


def deploy_models(
    settings: ModelDeploySettings, directory: Path = BPMN_DIR, *, dry_run: bool = False
) -> list[Plan]:
    """Plans every model of `directory`, then deploys those to deploy in one deployment (unless
    `dry_run`) and waits until the API shows them. Raises DeployRefused (nothing deployed) when a model is
    older than Camunda's latest."""
    models = read_models(directory)
    with CamundaApi.from_settings(settings) as api:
        plans = [plan(model, api.latest_process_definition(model.process_id)) for model in models]
        refused = [p for p in plans if p.action is Action.REFUSE]
        for refusal in refused:
            _log(refusal, "refused", logging.ERROR)
        if refused:
            raise DeployRefused("; ".join(f"{p.model.process_id}: {p.reason}" for p in refused))
        to_deploy = [p for p in plans if p.action is Action.DEPLOY]
        for unchanged in (p for p in plans if p.action is Action.UNCHANGED):
            _log(unchanged, "unchanged")
        if dry_run:
            for planned in to_deploy:
                _log(planned, "would_deploy")
            return plans
        if to_deploy:
            versions = asyncio.run(_deploy(settings, sorted({p.model.path for p in to_deploy})))
            for deployed in to_deploy:
                definition = _wait_until_visible(api, deployed.model)
                version = versions.get(deployed.model.process_id, definition.version)
                _log(deployed, "deployed", version=version)
    return plans


_MESSAGES: Final = {
    "refused": "refusing to deploy {name}: {why}",
    "unchanged": "{name}: {why}",
    "would_deploy": "would deploy {name}: {why}",
    "deployed": "deployed {name} as version {version}: {why}",
}


def _log(step: Plan, outcome: str, level: int = logging.INFO, version: int | None = None) -> None:
    fields = {
        "event": "model_deploy",
        "outcome": outcome,
        "process_id": step.model.process_id,
        "version_tag": step.model.version_tag.text,
        "deployed_version_tag": step.latest.version_tag if step.latest else None,
        "deployed_version": step.latest.version if step.latest else None,
    }
    if version is not None:
        fields["version"] = version
    name = f"{step.model.process_id} {step.model.version_tag}"
    message = _MESSAGES[outcome].format(name=name, why=step.reason, version=version)
    logger.log(level, "%s", message, extra=fields)


async def _deploy(settings: ModelDeploySettings, files: Sequence[Path]) -> dict[str, int]:
    """Deploys the files in one deployment; the version each process got, by process id."""
    channel = create_channel(settings)
    try:
        client = ZeebeClient(channel, max_connection_retries=-1)
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(UNAVAILABLE_ERRORS),
            stop=stop_after_delay(ENGINE_PATIENCE_SECONDS),
            wait=wait_exponential(multiplier=0.5, max=5),
            before_sleep=before_sleep_log(logger, logging.WARNING),
            reraise=True,
        ):
            with attempt:
                deployment = await client.deploy_resource(*(str(path) for path in files))
    except UNAVAILABLE_ERRORS as error:
        raise EngineUnreachable(f"the engine stayed unreachable while deploying: {error!r}") from error
    except PyZeebeError as error:
        raise DeployFailed(f"the engine refused the model: {error!r}") from error
    finally:
        await channel.close()
    return {
        resource.bpmn_process_id: resource.version
        for resource in deployment.deployments
        if isinstance(resource, DeployResourceResponse.ProcessMetadata)
    }


def _wait_until_visible(api: CamundaApi, model: ProcessModel) -> ProcessDefinition:
    deadline = time.monotonic() + VISIBILITY_TIMEOUT_SECONDS
    while (definition := api.process_definition(model.process_id, model.version_tag.text)) is None:
        if time.monotonic() > deadline:
            raise DeployFailed(
                f"{model.process_id} {model.version_tag} was deployed, but Camunda's API did not show it "
                f"within {VISIBILITY_TIMEOUT_SECONDS:.0f} s (is its exporter running?); workers refuse to "
                "start until it does"
            )
        time.sleep(VISIBILITY_POLL_SECONDS)
    return definition


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m worker_job.deploy_model", description="Deploys bpmn/ unless a model is older."
    )
    parser.add_argument("--dry-run", action="store_true", help="say what would be deployed; deploy nothing")
    arguments = parser.parse_args(argv)
    setup_logging("deploy_model")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    settings = load_settings(ModelDeploySettings)
    try:
        deploy_models(settings, dry_run=arguments.dry_run)
    except DeployRefused:
        return EXIT_REFUSED  # each refusal was logged as one line
    except (CamundaApiUnavailable, EngineUnreachable) as error:
        logger.error("deploy step stopped: %s", error, extra={"event": "model_deploy", "outcome": "failed"})
        return EXIT_UNREACHABLE
    except (ModelError, DeployFailed, CamundaApiRefused, CamundaApiError) as error:
        logger.error("deploy step stopped: %s", error, extra={"event": "model_deploy", "outcome": "failed"})
        return EXIT_FATAL
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
