"""Engine-only behaviour of the REST API subset: what localzeebe refuses rather than silently ignores, and
the version tag as its deployment reads it (the client-visible behaviour is in test_conformance_rest_api)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from localzeebe.deployment import DeploymentError, parse_resource
from localzeebe.launcher import LocalEngine

from .support import definitions, end, flow, start


def process_with_extensions(extensions: str) -> bytes:
    body = f"<bpmn:extensionElements>{extensions}</bpmn:extensionElements>" + start() + end()
    return definitions("tagged", body + flow("f1", "start", "end"))


def test_the_version_tag_is_read_with_the_process() -> None:
    [process] = parse_resource(process_with_extensions('<zeebe:versionTag value="3.1.4" />'))

    assert process.version_tag == "3.1.4"


@pytest.mark.parametrize(
    ("extensions", "reason"),
    [
        ('<zeebe:versionTag value="1" /><zeebe:versionTag value="2" />', "exactly one 'zeebe:versionTag'"),
        ("<zeebe:versionTag />", "zeebe:versionTag needs a value"),
    ],
)
def test_a_second_or_empty_version_tag_is_refused_as_zeebe_does(extensions: str, reason: str) -> None:
    with pytest.raises(DeploymentError, match=reason):
        parse_resource(process_with_extensions(extensions))


@pytest.mark.parametrize(
    "query",
    [
        {"filter": {"bpmnProcessId": "x"}},
        {"filter": {"state": {"$like": "ACT*"}}},
        {"sort": [{"field": "errorMessage", "order": "SIDEWAYS"}]},
        {"page": {"before": "WzFd"}},
        {"page": {"after": "not a cursor"}},
        {"page": {"limit": 0}},
        {"query": {}},
    ],
)
def test_what_the_subset_does_not_serve_is_answered_400_never_ignored(
    local_engine: LocalEngine, query: dict[str, Any]
) -> None:
    response = httpx.post(f"{local_engine.http_url}/v2/incidents/search", json=query, timeout=5)

    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 400


def test_an_empty_changeset_and_unknown_endpoints_are_refused(local_engine: LocalEngine) -> None:
    empty = httpx.patch(f"{local_engine.http_url}/v2/jobs/1", json={"changeset": {}}, timeout=5)
    unknown = httpx.post(f"{local_engine.http_url}/v2/jobs/activation", json={}, timeout=5)

    assert empty.status_code == 400
    assert unknown.status_code == 404


def test_the_inspection_view_stays_read_only(local_engine: LocalEngine) -> None:
    response = httpx.post(f"{local_engine.http_url}/processes", json={}, timeout=5)

    assert response.status_code == 405
