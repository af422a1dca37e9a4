"""The Camunda REST API client: requests as the API reference has them, answers read, OAuth, retries and the
error taxonomy (respx for httpx)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx

from fulfillment.camunda_api import CamundaApi
from fulfillment.errors import (
    CamundaApiRefused,
    CamundaApiRejected,
    CamundaApiUnavailable,
    CamundaConflict,
    CamundaNotFound,
)
from fulfillment.settings import CamundaApiSettings

API = "https://api.camunda.test/cluster-1"
TOKEN_URL = "https://login.camunda.test/oauth/token"
INCIDENT = {
    "incidentKey": "2251799813685301",
    "processInstanceKey": "2251799813685290",
    "processDefinitionId": "order-fulfillment",
    "processDefinitionKey": "2251799813685250",
    "errorType": "JOB_NO_RETRIES",
    "errorMessage": "MedusaUnavailable: 503",
    "elementId": "VerifyPayment",
    "creationTime": "2026-12-01T10:00:00.000Z",
    "state": "ACTIVE",
    "jobKey": "2251799813685299",
    "tenantId": "<default>",
    "someFieldOfALaterVersion": True,
}


def page(items: list[dict[str, Any]], end_cursor: str | None = None) -> dict[str, Any]:
    return {"items": items, "page": {"totalItems": len(items), "endCursor": end_cursor}}


def body(route: respx.Route, call: int = -1) -> Any:
    return json.loads(route.calls[call].request.content)


@pytest.fixture
def api_mock() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
def api() -> Iterator[CamundaApi]:
    with CamundaApi(API, max_attempts=3) as client:
        yield client


def test_the_latest_definition_is_the_highest_version_of_the_process(
    api_mock: respx.MockRouter, api: CamundaApi
) -> None:
    answer = {"processDefinitionKey": 2251799813685250, "processDefinitionId": "order-fulfillment"}
    route = api_mock.post(f"{API}/v2/process-definitions/search").respond(
        json=page([{**answer, "version": 7, "versionTag": "1.3.0"}])
    )

    latest = api.latest_process_definition("order-fulfillment")

    assert body(route) == {
        "filter": {"processDefinitionId": "order-fulfillment"},
        "sort": [{"field": "version", "order": "DESC"}],
        "page": {"limit": 1},
    }
    assert latest is not None
    assert (latest.version, latest.version_tag, latest.process_definition_key) == (
        7,
        "1.3.0",
        "2251799813685250",
    )


def test_no_definition_is_none(api_mock: respx.MockRouter, api: CamundaApi) -> None:
    route = api_mock.post(f"{API}/v2/process-definitions/search").respond(json=page([]))

    assert api.process_definition("order-fulfillment", "1.0.0") is None
    assert body(route)["filter"] == {"processDefinitionId": "order-fulfillment", "versionTag": "1.0.0"}


def test_open_incidents_are_read_page_after_page_with_the_cursor(api_mock: respx.MockRouter) -> None:
    second = {**INCIDENT, "incidentKey": "2251799813685302", "jobKey": None, "errorType": "CONDITION_ERROR"}
    route = api_mock.post(f"{API}/v2/incidents/search").mock(
        side_effect=[
            httpx.Response(200, json=page([INCIDENT], "cursor-1")),
            httpx.Response(200, json=page([second], "cursor-2")),
            httpx.Response(200, json=page([])),
        ]
    )

    with CamundaApi(API) as api:
        pages = list(api.open_incidents(page_size=1))

    assert [[i.incident_key for i in p] for p in pages] == [["2251799813685301"], ["2251799813685302"]]
    assert body(route, 0)["filter"] == {"state": "ACTIVE"}
    assert [body(route, n)["page"] for n in range(3)] == [
        {"limit": 1},
        {"limit": 1, "after": "cursor-1"},
        {"limit": 1, "after": "cursor-2"},
    ]
    first = pages[0][0]
    assert (first.error_type, first.job_key, first.creation_time.isoformat()) == (  # type: ignore[union-attr]
        "JOB_NO_RETRIES",
        "2251799813685299",
        "2026-12-01T10:00:00+00:00",
    )
    assert pages[1][0].job_key is None


def test_a_short_page_is_the_last(api_mock: respx.MockRouter, api: CamundaApi) -> None:
    route = api_mock.post(f"{API}/v2/incidents/search").respond(json=page([INCIDENT], "cursor-1"))

    assert len(list(api.open_incidents(page_size=100))) == 1
    assert route.call_count == 1


def test_root_variables_are_read_in_one_search_and_local_ones_left_out(
    api_mock: respx.MockRouter, api: CamundaApi
) -> None:
    variables = [
        {"name": "order_id", "value": '"order_1"', "processInstanceKey": "11", "scopeKey": "11"},
        {"name": "order_id", "value": '"local"', "processInstanceKey": "12", "scopeKey": "99"},
        {"name": "order_id", "value": '"order_3"', "processInstanceKey": "13", "scopeKey": "13"},
    ]
    route = api_mock.post(f"{API}/v2/variables/search").respond(json=page(variables))

    values = api.root_variable(["13", "11", "12", "11"], "order_id")

    assert values == {"11": "order_1", "13": "order_3"}
    assert body(route)["filter"] == {"name": "order_id", "processInstanceKey": {"$in": ["11", "12", "13"]}}


def test_instances_of_an_order_are_found_by_its_order_id_variable(
    api_mock: respx.MockRouter, api: CamundaApi
) -> None:
    instance = {
        "processInstanceKey": "21",
        "processDefinitionId": "order-fulfillment",
        "state": "ACTIVE",
        "hasIncident": True,
    }
    route = api_mock.post(f"{API}/v2/process-instances/search").respond(json=page([instance]))

    [found] = api.process_instances_of_order("order_01ABC", state="ACTIVE")

    assert (found.process_instance_key, found.has_incident) == ("21", True)
    assert body(route)["filter"] == {
        "processDefinitionId": "order-fulfillment",
        "variables": [{"name": "order_id", "value": '"order_01ABC"'}],
        "state": "ACTIVE",
    }


def test_retries_then_resolution_of_an_incident(api_mock: respx.MockRouter, api: CamundaApi) -> None:
    retries = api_mock.patch(f"{API}/v2/jobs/31").respond(204)
    resolution = api_mock.post(f"{API}/v2/incidents/32/resolution").respond(204)

    api.set_job_retries("31", 2)
    api.resolve_incident("32")

    assert body(retries) == {"changeset": {"retries": 2}}
    assert resolution.called


def problem(status: int, title: str, detail: str) -> httpx.Response:
    content = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    return httpx.Response(status, json=content, headers={"content-type": "application/problem+json"})


@pytest.mark.parametrize(
    ("status", "title", "error"),
    [
        (404, "NOT_FOUND", CamundaNotFound),
        (409, "INVALID_STATE", CamundaConflict),
        (400, "INVALID_ARGUMENT", CamundaApiRejected),
    ],
)
def test_refusals_carry_the_problem_detail(
    api_mock: respx.MockRouter, api: CamundaApi, status: int, title: str, error: type[Exception]
) -> None:
    api_mock.post(f"{API}/v2/incidents/32/resolution").mock(return_value=problem(status, title, "because"))

    with pytest.raises(error) as caught:
        api.resolve_incident("32")

    assert isinstance(caught.value, CamundaApiRejected)
    assert (caught.value.status, caught.value.title, caught.value.detail) == (status, title, "because")


def test_a_read_is_retried_on_5xx_and_connect_errors(api_mock: respx.MockRouter, api: CamundaApi) -> None:
    route = api_mock.post(f"{API}/v2/process-definitions/search").mock(
        side_effect=[httpx.ConnectError("refused"), httpx.Response(502), httpx.Response(200, json=page([]))]
    )

    assert api.latest_process_definition("order-fulfillment") is None
    assert route.call_count == 3


def test_a_read_that_keeps_failing_is_unavailable(api_mock: respx.MockRouter, api: CamundaApi) -> None:
    route = api_mock.post(f"{API}/v2/incidents/search").mock(
        return_value=problem(503, "Unavailable", "leader")
    )

    with pytest.raises(CamundaApiUnavailable, match="503"):
        list(api.open_incidents())
    assert route.call_count == 3


def test_a_write_is_not_sent_again_when_it_may_have_been_taken(
    api_mock: respx.MockRouter, api: CamundaApi
) -> None:
    route = api_mock.post(f"{API}/v2/incidents/32/resolution").mock(side_effect=httpx.ReadTimeout("slow"))
    refused_by_load = api_mock.patch(f"{API}/v2/jobs/31").mock(
        side_effect=[problem(429, "RESOURCE_EXHAUSTED", "busy"), httpx.Response(204)]
    )

    with pytest.raises(CamundaApiUnavailable):
        api.resolve_incident("32")
    api.set_job_retries("31", 1)

    assert route.call_count == 1
    assert refused_by_load.call_count == 2


def test_an_unexpected_answer_is_unavailable_not_a_crash(api_mock: respx.MockRouter, api: CamundaApi) -> None:
    api_mock.post(f"{API}/v2/incidents/search").respond(json={"items": [{"incidentKey": "1"}]})

    with pytest.raises(CamundaApiUnavailable, match="unexpected answer"):
        list(api.open_incidents())


def oauth_api() -> CamundaApi:
    return CamundaApi(
        API, token_url=TOKEN_URL, client_id="worker", client_secret="s3cret", audience="zeebe.camunda.io"
    )


def test_calls_carry_a_bearer_token_fetched_once_with_client_credentials(api_mock: respx.MockRouter) -> None:
    token = api_mock.post(TOKEN_URL).respond(json={"access_token": "tok-1", "expires_in": 300})
    search = api_mock.post(f"{API}/v2/process-definitions/search").respond(json=page([]))

    with oauth_api() as api:
        api.latest_process_definition("a")
        api.latest_process_definition("b")

    assert token.call_count == 1
    form = dict(httpx.QueryParams(token.calls[0].request.content.decode()))
    assert form == {
        "grant_type": "client_credentials",
        "client_id": "worker",
        "client_secret": "s3cret",
        "audience": "zeebe.camunda.io",
    }
    assert [call.request.headers["authorization"] for call in search.calls] == ["Bearer tok-1"] * 2


def test_a_token_close_to_expiry_is_renewed(api_mock: respx.MockRouter) -> None:
    token = api_mock.post(TOKEN_URL).mock(
        side_effect=[
            httpx.Response(200, json={"access_token": "short", "expires_in": 10}),
            httpx.Response(200, json={"access_token": "fresh", "expires_in": 300}),
        ]
    )
    search = api_mock.post(f"{API}/v2/process-definitions/search").respond(json=page([]))

    with oauth_api() as api:
        api.latest_process_definition("a")
        api.latest_process_definition("b")

    assert token.call_count == 2
    assert search.calls[-1].request.headers["authorization"] == "Bearer fresh"


@pytest.mark.parametrize("where", ["token", "api"])
def test_refused_credentials_are_refused_not_retried(api_mock: respx.MockRouter, where: str) -> None:
    token = api_mock.post(TOKEN_URL).respond(
        401 if where == "token" else 200, json={"access_token": "tok", "expires_in": 300}
    )
    search = api_mock.post(f"{API}/v2/incidents/search").mock(return_value=problem(403, "Forbidden", "no"))

    with oauth_api() as api, pytest.raises(CamundaApiRefused):
        list(api.open_incidents())

    assert token.call_count == 1
    assert search.call_count == (0 if where == "token" else 1)


def test_without_credentials_no_authorization_header_is_sent(
    api_mock: respx.MockRouter, api: CamundaApi
) -> None:
    route = api_mock.post(f"{API}/v2/process-definitions/search").respond(json=page([]))

    api.latest_process_definition("a")

    assert "authorization" not in route.calls[0].request.headers


# --- settings -----------------------------------------------------------------------------------------
def test_saas_settings_give_the_cluster_api_token_url_and_audience(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("ZEEBE_CLIENT_ID", "worker")
    clean_env.setenv("ZEEBE_CLIENT_SECRET", "s3cret")
    clean_env.setenv("CAMUNDA_CLUSTER_ID", "abc-123")
    clean_env.setenv("CAMUNDA_CLUSTER_REGION", "syd-1")

    settings = CamundaApiSettings()

    assert settings.api_base_url == "https://syd-1.zeebe.camunda.io/abc-123"
    assert settings.api_token_url == "https://login.cloud.camunda.io/oauth/token"
    assert settings.api_audience == "zeebe.camunda.io"


def test_self_managed_settings_take_the_url_and_audience_given(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("ZEEBE_CLIENT_ID", "worker")
    clean_env.setenv("ZEEBE_CLIENT_SECRET", "s3cret")
    clean_env.setenv("ZEEBE_AUTHORIZATION_SERVER_URL", "https://idp.test/token")
    clean_env.setenv("ZEEBE_TOKEN_AUDIENCE", "zeebe-api")
    clean_env.setenv("CAMUNDA_API_URL", "https://camunda.test/")
    clean_env.setenv("CAMUNDA_API_AUDIENCE", "orchestration-api")

    settings = CamundaApiSettings()

    assert settings.api_base_url == "https://camunda.test"
    assert (settings.api_token_url, settings.api_audience) == ("https://idp.test/token", "orchestration-api")


def test_without_credentials_there_is_no_token_url(clean_env: pytest.MonkeyPatch) -> None:
    settings = CamundaApiSettings()

    assert settings.api_token_url is None
    assert settings.api_base_url == "http://localhost:8080"
