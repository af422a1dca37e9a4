"""At start, a worker checks that the version of the model it was built with is deployed.

Workers do not deploy the model (the deploy step does: worker_job/deploy_model.py), so an old worker image
started during a rollback or a retry cannot make its older model the latest. They ask Camunda's REST API
for a definition of `order-fulfillment` with their model's version tag (`zeebe:versionTag`): a newer model
may be the latest (the old worker then finishes what runs on its version), but one that was never deployed
means the deploy step did not run for this release, and the worker exits 2 with one line saying what to
run. An unreachable API is retried for the worker's unhealthy grace, as an unreachable gateway is.
"""

from __future__ import annotations

import logging
from typing import Final

from tenacity import Retrying, before_sleep_log, retry_if_exception_type, stop_after_delay, wait_exponential

from fulfillment.camunda_api import CamundaApi, ProcessDefinition
from fulfillment.errors import CamundaApiError, CamundaApiUnavailable, ModelError
from fulfillment.process_model import ProcessModel, handled_model
from worker_job.config import WorkerJobSettings

logger = logging.getLogger("worker_job.model_check")

EXIT_FATAL: Final = 1
EXIT_MODEL_NOT_DEPLOYED: Final = 2
EXIT_API_UNREACHABLE: Final = 3
DEPLOY_COMMAND: Final = "python -m worker_job.deploy_model"


def check_model_deployed(settings: WorkerJobSettings) -> int | None:
    """None when the worker may start; otherwise the exit code, after one line saying why."""
    try:
        model = handled_model()
        definition = _deployed_definition(settings, model)
    except ModelError as error:
        logger.error("cannot read the worker's process model: %s", error, extra={"event": "model_check"})
        return EXIT_FATAL
    except CamundaApiUnavailable as error:
        logger.error(
            "Camunda's API stayed unreachable while checking the process model: %s",
            error,
            extra={"event": "model_check", "outcome": "unreachable"},
        )
        return EXIT_API_UNREACHABLE
    except CamundaApiError as error:
        logger.error(
            "Camunda's API refused the process model check: %s",
            error,
            extra={"event": "model_check", "outcome": "refused"},
        )
        return EXIT_FATAL
    fields = {"event": "model_check", "process_id": model.process_id, "version_tag": model.version_tag.text}
    if definition is None:
        logger.error(
            "process model %s %s is not deployed to Camunda: run `%s` (the deploy step) for this release, "
            "then start the worker again",
            model.process_id,
            model.version_tag,
            DEPLOY_COMMAND,
            extra={**fields, "outcome": "not_deployed"},
        )
        return EXIT_MODEL_NOT_DEPLOYED
    logger.info(
        "process model %s %s is deployed (version %d)",
        model.process_id,
        model.version_tag,
        definition.version,
        extra={**fields, "outcome": "deployed", "version": definition.version},
    )
    return None


def _deployed_definition(settings: WorkerJobSettings, model: ProcessModel) -> ProcessDefinition | None:
    retrying = Retrying(
        retry=retry_if_exception_type(CamundaApiUnavailable),
        stop=stop_after_delay(settings.worker_unhealthy_exit_seconds),
        wait=wait_exponential(multiplier=0.5, max=5),
        before_sleep=before_sleep_log(logger, logging.WARNING),
        reraise=True,
    )
    with CamundaApi.from_settings(settings) as api:
        return retrying(api.process_definition, model.process_id, model.version_tag.text)
