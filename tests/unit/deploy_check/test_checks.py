"""Each check's verdict and what it says, with the parts answered by respx and fake stores."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import httpx
import pytest
import respx

from deploy_check.checks import (
    ACCESS_STEP,
    Outcome,
    Run,
    check_model,
    check_secrets,
    check_status_route,
    check_webhook,
    check_worker,
    check_worker_routes,
)
from deploy_check.deployment import CLOUD_REDO, Deployment
from deploy_check.heartbeats import Sighting
from deploy_check.secret_store import SecretNotReadable
from deploy_check.settings import DeployCheckSettings
from fulfillment.process_model import handled_model
from fulfillment.signatures import verify

from ..helpers import new_webhook_secret

WEBHOOK = "https://webhook.example/"
MEDUSA = "https://shop.example"
CAMUNDA = "https://camunda.example"
NOW = datetime(2026, 12, 5, 2, 30, tzinfo=UTC)


@dataclass
class FakeStore:
    values: dict[str, str | SecretNotReadable]

    @property
    def settings(self) -> tuple[str, ...]:
        return tuple(self.values)

    def where(self, setting: str) -> str:
        return f"{setting} version 4"

    def read(self, setting: str) -> str:
        value = self.values[setting]
        if isinstance(value, SecretNotReadable):
            raise value
        return value


@dataclass
class FakeHeartbeats:
    sighting: Sighting
    asked: list[datetime] = field(default_factory=list)

    def last_polling(self, since: datetime) -> Sighting:
        self.asked.append(since)
        return self.sighting


def make_run(**secrets: str | SecretNotReadable) -> Run:
    deployment = Deployment(
        description="a test deployment",
        order_webhook_url=WEBHOOK,
        medusa_url=MEDUSA,
        secrets=FakeStore(dict(secrets)),
        heartbeats=FakeHeartbeats(Sighting(NOW, "seen")),
        redo=CLOUD_REDO,
        camunda={"camunda_api_url": CAMUNDA},
    )
    run = Run(deployment, DeployCheckSettings(), now=lambda: NOW)
    check_secrets(run)
    return run


# --- secrets -------------------------------------------------------------------------------------------
def test_all_pinned_secrets_readable_pass() -> None:
    run = make_run(ORDER_WEBHOOK_SECRET=new_webhook_secret(), WORKER_CAMUNDA_CLIENT_SECRET="any text")

    outcome = check_secrets(run)

    assert outcome.ok
    assert set(run.secrets) == {"ORDER_WEBHOOK_SECRET", "WORKER_CAMUNDA_CLIENT_SECRET"}


def test_a_missing_or_malformed_secret_fails_naming_each() -> None:
    run = make_run(
        ORDER_WEBHOOK_SECRET="not-a-webhook-secret",
        MEDUSA_WORKER_SECRET=SecretNotReadable("secret x version 3 does not exist", missing=True),
        MEDUSA_STATUS_SECRET=new_webhook_secret(),
    )

    outcome = check_secrets(run)

    assert not outcome.ok
    assert "ORDER_WEBHOOK_SECRET: ORDER_WEBHOOK_SECRET version 4 is not a webhook secret" in outcome.said
    assert "MEDUSA_WORKER_SECRET: secret x version 3 does not exist" in outcome.said
    assert outcome.redo == CLOUD_REDO.secrets
    assert set(run.secrets) == {"MEDUSA_STATUS_SECRET"}


def test_a_forbidden_secret_asks_for_an_account_that_may_read_it() -> None:
    forbidden = make_run(MEDUSA_WORKER_SECRET=SecretNotReadable("permission denied", missing=False))
    both = make_run(
        MEDUSA_WORKER_SECRET=SecretNotReadable("permission denied", missing=False),
        MEDUSA_STATUS_SECRET=SecretNotReadable("does not exist", missing=True),
    )

    assert check_secrets(forbidden).redo == ACCESS_STEP
    assert check_secrets(both).redo == f"{ACCESS_STEP}; {CLOUD_REDO.secrets}"


# --- the webhook ---------------------------------------------------------------------------------------
@respx.mock
def test_the_webhook_answering_ignored_to_a_signed_probe_passes() -> None:
    secret = new_webhook_secret()
    route = respx.post(WEBHOOK).respond(202, json={"status": "ignored"})

    outcome = check_webhook(make_run(ORDER_WEBHOOK_SECRET=secret))

    assert outcome.ok, outcome
    request = route.calls.last.request
    verify([secret], dict(request.headers), request.content)
    assert json.loads(request.content)["type"] == "deployment.check"


@pytest.mark.parametrize(
    ("answer", "words", "redo"),
    [
        (
            httpx.Response(401, json={"error": "invalid_signature"}),
            "answered 401",
            CLOUD_REDO.webhook_signature,
        ),
        (httpx.Response(404, text="<html>Not Found</html>"), "not 202 ignored", CLOUD_REDO.webhook_url),
        (httpx.Response(202, json={"status": "started"}), "not 202 ignored", CLOUD_REDO.webhook_url),
        (httpx.ConnectError("refused"), "cannot reach the order webhook", CLOUD_REDO.webhook_url),
    ],
)
@respx.mock
def test_the_webhook_answering_otherwise_fails(
    answer: httpx.Response | Exception, words: str, redo: str
) -> None:
    if isinstance(answer, Exception):
        respx.post(WEBHOOK).mock(side_effect=answer)
    else:
        respx.post(WEBHOOK).mock(return_value=answer)

    outcome = check_webhook(make_run(ORDER_WEBHOOK_SECRET=new_webhook_secret()))

    assert not outcome.ok
    assert words in outcome.said
    assert outcome.redo == redo


def test_checks_needing_an_unread_secret_say_so() -> None:
    run = make_run(ORDER_WEBHOOK_SECRET=SecretNotReadable("gone", missing=True))

    for check in (check_webhook, check_worker_routes, check_status_route):
        outcome = check(run)
        assert not outcome.ok
        assert outcome.said.startswith("not checked:")


# --- the plugin's routes -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("check", "route", "setting", "option"),
    [
        (check_worker_routes, "view", "MEDUSA_WORKER_SECRET", "workerSecret"),
        (check_status_route, "status", "MEDUSA_STATUS_SECRET", "statusSecret"),
    ],
)
@respx.mock
def test_a_plugin_route_is_proven_by_a_404_after_the_signature(
    check: Callable[[Run], Outcome], route: str, setting: str, option: str
) -> None:
    secret = new_webhook_secret()
    run = make_run(**{setting: secret})
    routes = respx.post(url__regex=rf"{MEDUSA}/fulfillment-workflow/orders/order_\w+/{route}")
    routes.respond(404, json={"type": "not_found", "message": "Order id not found"})

    passed = check(run)
    routes.respond(401, json={"message": "Missing or invalid signature"})
    refused = check(run)
    routes.respond(404, text="Cannot POST /fulfillment-workflow/orders/x")
    no_plugin = check(run)

    assert passed.ok, passed
    body = routes.calls[0].request.content
    verify([secret], dict(routes.calls[0].request.headers), body)
    assert json.loads(body)["order_id"] == run.probe_order_id
    assert not refused.ok
    assert option in refused.redo
    assert f"{setting} version 4" in refused.redo
    assert not no_plugin.ok
    assert "is medusa-plugin-fulfillment-workflow installed?" in no_plugin.said
    assert no_plugin.redo == CLOUD_REDO.medusa


# --- the model -----------------------------------------------------------------------------------------
def definition(tag: str, version: int) -> dict[str, object]:
    return {
        "processDefinitionKey": "1",
        "processDefinitionId": "order-fulfillment",
        "version": version,
        "versionTag": tag,
    }


@respx.mock
def test_the_checkouts_model_version_deployed_passes_and_another_fails() -> None:
    tag = handled_model().version_tag.text
    search = respx.post(f"{CAMUNDA}/v2/process-definitions/search")
    run = make_run()

    search.respond(json={"items": [definition(tag, 3)], "page": {"totalItems": 1}})
    deployed = check_model(run)
    search.side_effect = [
        httpx.Response(200, json={"items": []}),
        httpx.Response(200, json={"items": [definition("0.0.1", 2)]}),
    ]
    older = check_model(run)
    search.side_effect = [httpx.Response(200, json={"items": []})] * 2
    none = check_model(run)

    assert deployed.ok, deployed
    assert json.loads(search.calls[0].request.content)["filter"] == {
        "processDefinitionId": "order-fulfillment",
        "versionTag": tag,
    }
    assert not older.ok
    assert f"{tag} (this checkout's) is not deployed: Camunda's latest is 0.0.1 (v2)" in older.said
    assert older.redo == CLOUD_REDO.model
    assert "is not deployed: Camunda has no version of it" in none.said


def test_the_model_check_uses_the_workers_client_secret() -> None:
    run = make_run()
    deployment = replace(
        run.deployment,
        camunda={"camunda_cluster_id": "c1", "zeebe_client_id": "worker-client"},
        camunda_secret_setting="WORKER_CAMUNDA_CLIENT_SECRET",
    )

    outcome = check_model(replace(run, deployment=deployment))

    assert not outcome.ok
    assert outcome.said == "not checked: WORKER_CAMUNDA_CLIENT_SECRET could not be read (see secrets)"


# --- the worker ----------------------------------------------------------------------------------------
def test_the_worker_check_asks_for_the_window_and_reports_the_sighting() -> None:
    run = make_run()
    heartbeats = run.deployment.heartbeats
    assert isinstance(heartbeats, FakeHeartbeats)

    seen = check_worker(run)
    heartbeats.sighting = Sighting(None, "no worker_heartbeat line")
    unseen = check_worker(run)

    assert seen.ok
    assert heartbeats.asked[0] == datetime(2026, 12, 5, 2, 20, tzinfo=UTC)
    assert not unseen.ok
    assert unseen.said == "no worker polled the engine in the last 10 minutes: no worker_heartbeat line"
    assert unseen.redo == CLOUD_REDO.worker
