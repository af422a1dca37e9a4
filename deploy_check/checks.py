"""The checks, each a small function of the deployment that proves one link and never changes anything.

They run in order and each runs even when an earlier one failed, so one run names every broken piece; a
check that needs a secret the first check could not read says so instead of guessing.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import httpx
from pydantic import ValidationError

from deploy_check.deployment import Deployment
from deploy_check.secret_store import WEBHOOK_SECRET_SETTINGS, SecretNotReadable
from deploy_check.settings import DeployCheckSettings
from fulfillment.camunda_api import CamundaApi
from fulfillment.errors import (
    CamundaApiError,
    CamundaApiRefused,
    CamundaApiUnavailable,
    MedusaAuthError,
    MedusaError,
    MedusaRejected,
    ModelError,
    OrderNotFound,
)
from fulfillment.medusa import MedusaClient
from fulfillment.process_model import handled_model
from fulfillment.settings import CamundaApiSettings, GivenValuesOnly, describe_errors
from fulfillment.signatures import check_secret, sign_headers, split_secrets
from fulfillment.workflow import WorkflowStatus

# Any type but order.placed and order.canceled is answered 202 {"status": "ignored"} (docs/contracts.md).
PROBE_EVENT_TYPE: Final = "deployment.check"
# One attempt more than none: a check should say quickly that something is down, not ride out an outage.
PROBE_ATTEMPTS: Final = 2
ACCESS_STEP: Final = "run the check as an account that may read these secrets"


@dataclass(frozen=True)
class Outcome:
    check: str
    ok: bool
    said: str
    redo: str = ""


@dataclass
class Run:
    deployment: Deployment
    settings: DeployCheckSettings
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    # What the secrets check read, by setting: the later checks sign with these values.
    secrets: dict[str, str] = field(default_factory=dict)
    # An order id no shop has: the plugin's routes answer 404 for it after a valid signature.
    probe_order_id: str = field(default_factory=lambda: f"order_deploycheck{uuid.uuid4().hex[:24]}")


# --- secrets ---------------------------------------------------------------------------------------------
def check_secrets(run: Run) -> Outcome:
    store, redo = run.deployment.secrets, run.deployment.redo
    problems: list[str] = []
    steps: dict[str, None] = {}  # the steps to redo, each once, in the order met
    for setting in store.settings:
        try:
            value = store.read(setting)
            _check_format(setting, value)
        except SecretNotReadable as error:
            problems.append(f"{setting}: {error}")
            steps[redo.secrets if error.missing else ACCESS_STEP] = None
            continue
        except ValueError as error:
            problems.append(f"{setting}: {store.where(setting)} is not a webhook secret: {error}")
            steps[redo.secrets] = None
            continue
        run.secrets[setting] = value
    if problems:
        return Outcome("secrets", False, "; ".join(problems), "; ".join(steps))
    said = f"the caller reads all {len(store.settings)} pinned secrets: {', '.join(store.settings)}"
    return Outcome("secrets", True, said)


def _check_format(setting: str, value: str) -> None:
    if setting not in WEBHOOK_SECRET_SETTINGS:
        return
    secrets = split_secrets(value)
    if not secrets:
        raise ValueError("it is empty")
    for secret in secrets:
        check_secret(secret)


def _unread(run: Run, check: str, setting: str) -> Outcome:
    return Outcome(
        check, False, f"not checked: {setting} could not be read (see secrets)", run.deployment.redo.secrets
    )


# --- the order webhook -----------------------------------------------------------------------------------
def check_webhook(run: Run) -> Outcome:
    setting = "ORDER_WEBHOOK_SECRET"
    if setting not in run.secrets:
        return _unread(run, "webhook", setting)
    url, redo = run.deployment.order_webhook_url, run.deployment.redo
    where = run.deployment.secrets.where(setting)
    body = json.dumps({"type": PROBE_EVENT_TYPE, "timestamp": run.now().isoformat(), "data": {}}).encode()
    signed = sign_headers(split_secrets(run.secrets[setting])[0], body)
    headers = {**signed, "content-type": "application/json"}
    try:
        response = httpx.post(url, content=body, headers=headers, timeout=run.settings.timeout_seconds)
    except httpx.HTTPError as error:
        said = f"cannot reach the order webhook at {url}: {error!r}"
        return Outcome("webhook", False, said, redo.webhook_url)
    if response.status_code == 401:
        said = f"the order webhook answered 401 to an event signed with {where}: it runs with another secret"
        return Outcome("webhook", False, said, redo.webhook_signature)
    if response.status_code == 202 and _json(response).get("status") == "ignored":
        said = f"{url} answered 202 ignored to a {PROBE_EVENT_TYPE} event signed with {where}"
        return Outcome("webhook", True, said)
    answer = f"{response.status_code} {response.text[:200]!r}"
    said = f"{url} answered {answer}, not 202 ignored: is it the order webhook function?"
    return Outcome("webhook", False, said, redo.webhook_url)


def _json(response: httpx.Response) -> dict[str, object]:
    try:
        answer = response.json()
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


# --- the plugin's signed routes --------------------------------------------------------------------------
def check_worker_routes(run: Run) -> Outcome:
    """The worker's route `view`, as the worker signs it (the cancel route takes the same secret)."""
    return _plugin_route(run, "worker routes", "MEDUSA_WORKER_SECRET", "workerSecret", "view", _view)


def check_status_route(run: Run) -> Outcome:
    """The status function's route `status`: a write for an order that does not exist changes nothing."""
    return _plugin_route(run, "status route", "MEDUSA_STATUS_SECRET", "statusSecret", "status", _write)


def _view(client: MedusaClient, order_id: str) -> None:
    client.view_order(order_id)


def _write(client: MedusaClient, order_id: str) -> None:
    client.write_status(order_id, {"workflow_status": WorkflowStatus.AWAITING_PAYMENT.value}, [None])


def _plugin_route(
    run: Run, check: str, setting: str, option: str, route: str, call: Callable[[MedusaClient, str], None]
) -> Outcome:
    if setting not in run.secrets:
        return _unread(run, check, setting)
    url, redo = run.deployment.medusa_url, run.deployment.redo
    where = run.deployment.secrets.where(setting)
    secret = split_secrets(run.secrets[setting])[0]
    timeout = run.settings.timeout_seconds
    client = MedusaClient(url, secret, timeout_seconds=timeout, max_attempts=PROBE_ATTEMPTS)
    try:
        with client:
            call(client, run.probe_order_id)
    except OrderNotFound:
        said = (
            f"Medusa at {url} accepted a /{route} request signed with {where} "
            "and answered 404 for an order that does not exist"
        )
        return Outcome(check, True, said)
    except MedusaAuthError as error:
        said = (
            f"Medusa answered {error.status_code} to a /{route} request signed with {where}: "
            f"the plugin's option {option} holds another value"
        )
        return Outcome(check, False, said, redo.plugin_option.format(option=option, where=where))
    except MedusaRejected as error:
        said = f"the plugin refused the request as malformed ({error}): is its version this checkout's?"
        return Outcome(check, False, said, redo.medusa)
    except MedusaError as error:
        return Outcome(check, False, f"Medusa at {url} cannot be used: {error}", redo.medusa)
    # 200 for an order id made up at random: unexpected, but the signature was taken all the same.
    return Outcome(check, True, f"Medusa at {url} accepted a /{route} request signed with {where}")


# --- the process model -----------------------------------------------------------------------------------
class _GivenOnly(GivenValuesOnly, CamundaApiSettings):
    """The worker's API settings from the deployment's inputs, and nothing from the environment."""


def check_model(run: Run) -> Outcome:
    """The call the worker makes at start (worker_job/model_check.py), with the worker's Camunda client."""
    deployment, redo = run.deployment, run.deployment.redo
    values: dict[str, Any] = dict(deployment.camunda)
    if deployment.camunda_secret_setting:
        if deployment.camunda_secret_setting not in run.secrets:
            return _unread(run, "model", deployment.camunda_secret_setting)
        values["zeebe_client_secret"] = run.secrets[deployment.camunda_secret_setting]
    try:
        model = handled_model(run.settings.bpmn)
        settings = _GivenOnly(
            **values,
            camunda_api_timeout_seconds=run.settings.timeout_seconds,
            camunda_api_max_attempts=PROBE_ATTEMPTS,
        )
    except ModelError as error:
        return Outcome("model", False, str(error), "use a checkout whose bpmn/ is intact")
    except ValidationError as error:
        return Outcome("model", False, describe_errors(error), deployment.redo.camunda)
    try:
        with CamundaApi.from_settings(settings) as api:
            wanted = model.version_tag.text
            if api.process_definition(model.process_id, wanted) is not None:
                return Outcome("model", True, f"{model.process_id} {wanted} (this checkout's) is deployed")
            latest = api.latest_process_definition(model.process_id)
    except CamundaApiRefused as error:
        return Outcome("model", False, f"Camunda refused the worker's client: {error}", redo.camunda)
    except CamundaApiUnavailable as error:
        return Outcome("model", False, f"Camunda's API cannot be reached: {error}", redo.camunda)
    except CamundaApiError as error:
        return Outcome("model", False, f"Camunda's API refused the check: {error}", redo.camunda)
    if latest is None:
        found = "Camunda has no version of it"
    else:
        found = f"Camunda's latest is {latest.version_tag} (v{latest.version})"
    said = f"{model.process_id} {model.version_tag} (this checkout's) is not deployed: {found}"
    return Outcome("model", False, said, redo.model)


# --- the worker ------------------------------------------------------------------------------------------
def check_worker(run: Run) -> Outcome:
    minutes = run.settings.heartbeat_minutes
    sighting = run.deployment.heartbeats.last_polling(run.now() - timedelta(minutes=minutes))
    if sighting.polling_at is None:
        said = f"no worker polled the engine in the last {minutes:g} minutes: {sighting.detail}"
        return Outcome("worker", False, said, run.deployment.redo.worker)
    return Outcome("worker", True, f"a worker polls the engine: {sighting.detail}")


CHECKS: Final[tuple[Callable[[Run], Outcome], ...]] = (
    check_secrets,
    check_webhook,
    check_worker_routes,
    check_status_route,
    check_model,
    check_worker,
)
