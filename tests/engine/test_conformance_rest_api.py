"""Conformance of the REST API subset (`/v2`, Camunda 8.8) against what a client observes through it.

Each test deploys and drives its own process (own id and job types) through the gateway and reads the
results through the REST API only, with the request and answer shapes of Camunda's API reference. They run
against the local engine, and against a real Camunda when `ZEEBE_ADDRESS` and `CAMUNDA_API_URL` point at one
(insecure gateway, API without authentication, secondary storage enabled: its searches read the exporter's
copy, so every read waits for its condition).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pytest
from pyzeebe.proto import gateway_pb2 as pb

from localzeebe.launcher import LocalEngine

from .support import Gateway, definitions, end, flow, gateway, start, task, unique

pytestmark = pytest.mark.contract

# Camunda's searches lag the engine by the exporter's delay; the local engine answers at once.
SEARCH_PATIENCE_S = 30.0


@dataclass
class Api:
    """The gateway (to make things happen) and the REST API (to observe them) of one target."""

    grpc: Gateway
    http: httpx.AsyncClient

    async def search(self, resource: str, query: dict[str, Any]) -> dict[str, Any]:
        response = await self.http.post(f"/v2/{resource}/search", json=query)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    async def items_eventually(
        self, resource: str, query: dict[str, Any], count: int
    ) -> list[dict[str, Any]]:
        """The search's items once there are `count` of them (the last answer when that never happens)."""
        give_up = time.monotonic() + SEARCH_PATIENCE_S
        while True:
            items: list[dict[str, Any]] = (await self.search(resource, query))["items"]
            if len(items) == count or time.monotonic() > give_up:
                return items
            await asyncio.sleep(0.2)


@pytest.fixture(params=["local", "camunda"])
async def api(request: pytest.FixtureRequest) -> AsyncIterator[Api]:
    if request.param == "camunda":
        address, url = os.environ.get("ZEEBE_ADDRESS"), os.environ.get("CAMUNDA_API_URL")
        if not (address and url):
            pytest.skip("ZEEBE_ADDRESS and CAMUNDA_API_URL not both set: no real Camunda to run against")
    else:
        engine: LocalEngine = request.getfixturevalue("local_engine")
        address, url = engine.grpc_address, engine.http_url
    client = Gateway(address)
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        yield Api(client, http)
    await client.close()


def tagged_process(process_id: str, body: str, version_tag: str) -> bytes:
    tag = f'<bpmn:extensionElements><zeebe:versionTag value="{version_tag}" /></bpmn:extensionElements>'
    return definitions(process_id, tag + body)


def one_task(job_type: str) -> str:
    return start() + task("work", job_type) + end() + flow("f1", "start", "work") + flow("f2", "work", "end")


def no_way_out() -> str:
    """A gateway whose only condition is false and that has no default flow: the engine raises a
    CONDITION_ERROR incident itself, with no job involved."""
    return (
        start()
        + gateway("choose")
        + end()
        + flow("f1", "start", "choose")
        + flow("f2", "choose", "end", "=amount > 100")
    )


def is_key(value: Any) -> bool:
    return isinstance(value, str) and value.isdigit()


async def test_definitions_are_found_with_their_version_tags_the_latest_first(api: Api) -> None:
    process_id = unique("rest-defs")
    await api.grpc.deploy(f"{process_id}.bpmn", tagged_process(process_id, one_task(unique("t")), "1.0.0"))
    await api.grpc.deploy(f"{process_id}.bpmn", tagged_process(process_id, one_task(unique("t")), "1.1.0"))

    every = await api.items_eventually(
        "process-definitions", {"filter": {"processDefinitionId": process_id}}, 2
    )
    latest = (
        await api.search(
            "process-definitions",
            {
                "filter": {"processDefinitionId": process_id},
                "sort": [{"field": "version", "order": "DESC"}],
                "page": {"limit": 1},
            },
        )
    )["items"]
    tagged = (
        await api.search(
            "process-definitions", {"filter": {"processDefinitionId": process_id, "versionTag": "1.0.0"}}
        )
    )["items"]

    assert sorted((d["version"], d["versionTag"]) for d in every) == [(1, "1.0.0"), (2, "1.1.0")]
    assert all(is_key(d["processDefinitionKey"]) and d["processDefinitionId"] == process_id for d in every)
    assert [(d["version"], d["versionTag"]) for d in latest] == [(2, "1.1.0")]
    assert [d["version"] for d in tagged] == [1]


async def test_a_process_never_deployed_has_no_definitions(api: Api) -> None:
    answer = await api.search("process-definitions", {"filter": {"processDefinitionId": unique("never")}})

    assert answer["items"] == []
    assert answer["page"]["totalItems"] == 0


async def test_an_incident_the_engine_raises_itself_is_open(api: Api) -> None:
    process_id = unique("rest-condition")
    await api.grpc.deploy(f"{process_id}.bpmn", tagged_process(process_id, no_way_out(), "1.0.0"))
    instance = await api.grpc.create(process_id, {"amount": 5})

    query = {"filter": {"processInstanceKey": str(instance), "state": "ACTIVE"}}
    [incident] = await api.items_eventually("incidents", query, 1)

    assert incident["errorType"] == "CONDITION_ERROR"
    assert incident["processDefinitionId"] == process_id
    assert incident["processInstanceKey"] == str(instance)
    assert incident["elementId"] == "choose"
    assert incident["state"] == "ACTIVE"
    assert is_key(incident["incidentKey"])
    assert incident.get("jobKey") is None
    assert datetime.fromisoformat(incident["creationTime"]).tzinfo is not None


async def test_a_job_without_retries_is_an_open_incident_that_retries_and_resolution_clear(api: Api) -> None:
    process_id, job_type = unique("rest-job"), unique("rest-job-type")
    await api.grpc.deploy(f"{process_id}.bpmn", tagged_process(process_id, one_task(job_type), "1.0.0"))
    instance = await api.grpc.create(process_id)
    job = await api.grpc.activate_one(job_type)
    await api.grpc.fail(job.key, retries=0, message="the shop is down")

    query = {"filter": {"processInstanceKey": str(instance), "state": "ACTIVE"}}
    [incident] = await api.items_eventually("incidents", query, 1)
    refused = await api.http.post(f"/v2/incidents/{incident['incidentKey']}/resolution", json={})
    retried = await api.http.patch(f"/v2/jobs/{job.key}", json={"changeset": {"retries": 1}})
    resolved = await api.http.post(f"/v2/incidents/{incident['incidentKey']}/resolution", json={})
    again = await api.grpc.activate_one(job_type)

    assert (incident["errorType"], incident["errorMessage"]) == ("JOB_NO_RETRIES", "the shop is down")
    assert incident["jobKey"] == str(job.key)
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["status"] == 409
    assert (retried.status_code, resolved.status_code) == (204, 204)
    assert (again.key, again.retries) == (job.key, 1)
    assert await api.items_eventually("incidents", query, 0) == []
    await api.grpc.complete(again.key)


async def test_open_incidents_are_paged_with_cursors(api: Api) -> None:
    process_id = unique("rest-pages")
    await api.grpc.deploy(f"{process_id}.bpmn", tagged_process(process_id, no_way_out(), "1.0.0"))
    instances = {str(await api.grpc.create(process_id, {"amount": n})) for n in range(3)}
    query: dict[str, Any] = {
        "filter": {"processDefinitionId": process_id, "state": "ACTIVE"},
        "sort": [{"field": "creationTime", "order": "ASC"}],
        "page": {"limit": 2},
    }
    await api.items_eventually("incidents", {"filter": query["filter"]}, 3)

    first = await api.search("incidents", query)
    second = await api.search(
        "incidents", {**query, "page": {"limit": 2, "after": first["page"]["endCursor"]}}
    )

    assert len(first["items"]) == 2
    assert first["page"]["totalItems"] == 3
    assert len(second["items"]) == 1
    assert {i["processInstanceKey"] for i in first["items"] + second["items"]} == instances


async def test_an_unknown_incident_or_job_is_not_found(api: Api) -> None:
    unknown = "2251799813685248"  # partition 1's key space starts one above

    resolution = await api.http.post(f"/v2/incidents/{unknown}/resolution", json={})
    update = await api.http.patch(f"/v2/jobs/{unknown}", json={"changeset": {"retries": 1}})

    assert (resolution.status_code, update.status_code) == (404, 404)
    assert resolution.json()["status"] == 404


async def test_instances_are_found_by_a_variable_and_its_root_value_is_readable(api: Api) -> None:
    process_id, job_type = unique("rest-vars"), unique("rest-vars-type")
    order_id = unique("order").replace("-", "_")
    await api.grpc.deploy(f"{process_id}.bpmn", tagged_process(process_id, one_task(job_type), "2.3.0"))
    instance = str(await api.grpc.create(process_id, {"order_id": order_id, "total": 30.5}))
    await api.grpc.create(process_id, {"order_id": "order_someone_else"})

    found = await api.items_eventually(
        "process-instances",
        {
            "filter": {
                "processDefinitionId": process_id,
                "variables": [{"name": "order_id", "value": json.dumps(order_id)}],
            }
        },
        1,
    )
    variables = await api.items_eventually(
        "variables", {"filter": {"name": "order_id", "processInstanceKey": {"$in": [instance]}}}, 1
    )

    assert [(i["processInstanceKey"], i["state"], i["processDefinitionVersionTag"]) for i in found] == [
        (instance, "ACTIVE", "2.3.0")
    ]
    assert [(v["processInstanceKey"], v["scopeKey"], json.loads(v["value"])) for v in variables] == [
        (instance, instance, order_id)
    ]
    for _ in range(2):
        await api.grpc.complete((await api.grpc.activate_one(job_type)).key)


async def test_an_orders_active_instances_and_their_open_incidents_as_the_admin_actions_ask(api: Api) -> None:
    """The plugin's admin actions (medusa/plugin/src/lib/camunda-client.ts): an order's ACTIVE instances by
    its `order_id` variable, a canceled one left out, then the open incidents of a list of instances."""
    process_id, job_type = unique("rest-actions"), unique("rest-actions-type")
    order_id = unique("order").replace("-", "_")
    await api.grpc.deploy(f"{process_id}.bpmn", tagged_process(process_id, one_task(job_type), "1.0.0"))
    canceled = await api.grpc.create(process_id, {"order_id": order_id})
    await api.grpc.stub.CancelProcessInstance(pb.CancelProcessInstanceRequest(processInstanceKey=canceled))
    running = str(await api.grpc.create(process_id, {"order_id": order_id}))
    job = await api.grpc.activate_one(job_type)
    await api.grpc.fail(job.key, retries=0, message="Medusa unreachable")

    active = await api.items_eventually(
        "process-instances",
        {
            "filter": {
                "processDefinitionId": process_id,
                "state": "ACTIVE",
                "variables": [{"name": "order_id", "value": json.dumps(order_id)}],
            },
            "sort": [{"field": "startDate", "order": "DESC"}],
            "page": {"limit": 100},
        },
        1,
    )
    incidents = await api.items_eventually(
        "incidents",
        {
            "filter": {"processInstanceKey": {"$in": [running, str(canceled)]}, "state": "ACTIVE"},
            "sort": [{"field": "creationTime", "order": "ASC"}],
            "page": {"limit": 100},
        },
        1,
    )

    assert [(i["processInstanceKey"], i["hasIncident"]) for i in active] == [(running, True)]
    assert [(i["processInstanceKey"], i["elementId"], i["jobKey"]) for i in incidents] == [
        (running, "work", str(job.key))
    ]
    retried = await api.http.patch(f"/v2/jobs/{job.key}", json={"changeset": {"retries": 1}})
    resolved = await api.http.post(f"/v2/incidents/{incidents[0]['incidentKey']}/resolution", json={})
    assert (retried.status_code, resolved.status_code) == (204, 204)
    await api.grpc.complete((await api.grpc.activate_one(job_type)).key)
