"""A read-only view of the engine, as Operate gives: a small HTTP JSON endpoint and a CLI printer.

The same port serves the REST API subset under `/v2/` (localzeebe/rest_api.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from dataclasses import asdict
from typing import Any
from urllib.parse import parse_qs, urlsplit

from localzeebe.engine import Engine
from localzeebe.rest_api import Answer, RestApi, problem
from localzeebe.state import Incident, ProcessInstance

log = logging.getLogger("localzeebe")
Json = dict[str, Any]


def instance_summary(engine: Engine, instance: ProcessInstance) -> Json:
    return {
        "key": instance.key,
        "bpmn_process_id": instance.bpmn_process_id,
        "version": instance.version,
        "process_definition_key": instance.process_definition_key,
        "state": instance.state,
        "correlation_key": instance.correlation_key,
        "current_elements": [element.element_id for element in instance.elements.values()],
        "incident_count": len(_active_incidents(engine, instance)),
        "start_time": instance.start_time,
        "end_time": instance.end_time,
    }


def _active_incidents(engine: Engine, instance: ProcessInstance) -> list[Incident]:
    return [
        engine.incidents[key] for key in instance.incident_keys if engine.incidents[key].state == "ACTIVE"
    ]


def instance_detail(engine: Engine, instance: ProcessInstance) -> Json:
    detail = instance_summary(engine, instance)
    detail.update(
        variables=instance.variables,
        incidents=[asdict(engine.incidents[key]) for key in instance.incident_keys],
        history=instance.history,
        element_instances=[asdict(element) for element in instance.elements.values()],
    )
    return detail


class InspectionApi:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.routes: dict[str, Callable[[dict[str, str]], Json]] = {
            "/health": lambda _: {"status": "UP"},
            "/process-instances": self.process_instances,
            "/incidents": self.list_incidents,
            "/jobs": self.list_jobs,
            "/messages": self.list_messages,
            "/processes": self.list_processes,
        }

    def handle(self, path: str) -> tuple[int, Json]:
        parts = urlsplit(path)
        query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
        route = parts.path.rstrip("/") or "/"
        if route in self.routes:
            return 200, self.routes[route](query)
        prefix = "/process-instances/"
        if route.startswith(prefix) and route[len(prefix) :].isdigit():
            instance = self.engine.instances.get(int(route[len(prefix) :]))
            if instance is not None:
                return 200, instance_detail(self.engine, instance)
            return 404, {"error": "NOT_FOUND", "message": f"no process instance {route[len(prefix) :]}"}
        return 404, {"error": "NOT_FOUND", "message": f"no route {parts.path}"}

    def process_instances(self, query: dict[str, str]) -> Json:
        filters = {
            "bpmn_process_id": query.get("bpmn_process_id"),
            "state": query.get("state"),
            "correlation_key": query.get("correlation_key"),
        }
        items = []
        for instance in self.engine.instances.values():
            if all(value is None or getattr(instance, name) == value for name, value in filters.items()):
                items.append(instance_summary(self.engine, instance))
        return {"items": items}

    def list_incidents(self, query: dict[str, str]) -> Json:
        state = query.get("state")
        return {"items": [asdict(i) for i in self.engine.incidents.values() if state in (None, i.state)]}

    def list_jobs(self, query: dict[str, str]) -> Json:
        state = query.get("state")
        return {"items": [asdict(j) for j in self.engine.jobs.values() if state in (None, j.state)]}

    def list_messages(self, _: dict[str, str]) -> Json:
        return {"items": [asdict(message) for message in self.engine.message_buffer.messages.values()]}

    def list_processes(self, _: dict[str, str]) -> Json:
        return {
            "items": [
                {key: value for key, value in asdict(d).items() if key != "resource"}
                for d in self.engine.definitions.values()
            ]
        }


_REASONS = {
    200: "OK",
    204: "No Content",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    500: "Internal Server Error",
    504: "Gateway Timeout",
}
MAX_BODY_BYTES = 1 << 20


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, str, bytes] | Answer:
    """(method, target, body) of one request, or the answer to a malformed one."""
    request_line = (await reader.readline()).decode("latin-1").split()
    length = 0
    while (line := await reader.readline()) not in {b"\r\n", b"\n", b""}:
        name, _, value = line.decode("latin-1").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip()) if value.strip().isdigit() else -1
    if len(request_line) < 2 or length < 0:
        return problem(400, "Bad Request", "malformed request", "")
    if length > MAX_BODY_BYTES:
        return problem(413, "Content Too Large", f"a body of at most {MAX_BODY_BYTES} bytes", "")
    body = await reader.readexactly(length) if length else b""
    return request_line[0], request_line[1], body


def _route(api: InspectionApi, rest: RestApi, method: str, target: str, body: bytes) -> Answer:
    path = urlsplit(target).path
    if path.startswith("/v2/"):
        try:
            return rest.handle(method, path, body)
        except Exception as error:  # an answer, never a dropped connection, and the cause in the log
            log.exception("REST API request %s %s failed", method, path)
            return problem(500, "Internal Server Error", f"{type(error).__name__}: {error}", path)
    if method != "GET":
        return Answer(405, {"error": "METHOD_NOT_ALLOWED", "message": "the inspection API is read only"})
    status, payload = api.handle(target)
    return Answer(status, payload)


async def _serve_client(
    api: InspectionApi, rest: RestApi, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    try:
        request = await _read_request(reader)
        answer = request if isinstance(request, Answer) else _route(api, rest, *request)
        payload = b"" if answer.body is None else json.dumps(answer.body, default=str).encode()
        head = (
            f"HTTP/1.1 {answer.status} {_REASONS[answer.status]}\r\n"
            + (f"Content-Type: {answer.content_type}\r\n" if answer.body is not None else "")
            + f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
        )
        writer.write(head.encode() + payload)
        await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def start_http(engine: Engine, host: str, port: int) -> tuple[asyncio.Server, int]:
    """The inspection view (read only) and, under `/v2/`, the REST API subset (localzeebe/rest_api.py)."""
    api, rest = InspectionApi(engine), RestApi(engine)
    server = await asyncio.start_server(lambda r, w: _serve_client(api, rest, r, w), host, port)
    bound = int(server.sockets[0].getsockname()[1])
    return server, bound


# --- CLI ------------------------------------------------------------------------------------------
def _time(ms: int | None) -> str:
    if not ms:
        return "-"
    import datetime as dt

    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def format_instance(detail: Json) -> str:
    lines = [
        f"process instance {detail['key']}  {detail['bpmn_process_id']} v{detail['version']}"
        f"  {detail['state']}",
        f"  correlation key: {detail.get('correlation_key') or '-'}",
        f"  started: {_time(detail.get('start_time'))}   ended: {_time(detail.get('end_time'))}",
        f"  current elements: {', '.join(detail.get('current_elements', [])) or '-'}",
        "  variables:",
    ]
    lines += [f"    {name} = {json.dumps(value)}" for name, value in detail.get("variables", {}).items()]
    incidents = detail.get("incidents", [])
    lines.append(f"  incidents: {len(incidents)}")
    lines += [
        f"    {i['key']} {i['state']} {i['error_type']} at {i['element_id']}: {i['error_message']}"
        for i in incidents
    ]
    lines.append("  history:")
    lines += [
        f"    {_time(event['time'])}  {event['intent']:<20} {event['element_type']:<17} {event['element_id']}"
        for event in detail.get("history", [])
    ]
    return "\n".join(lines)


def format_summary(item: Json) -> str:
    return (
        f"{item['key']}  {item['bpmn_process_id']} v{item['version']}  {item['state']:<10} "
        f"key={item.get('correlation_key') or '-'}  at={','.join(item['current_elements']) or '-'}  "
        f"incidents={item.get('incident_count', 0)}"
    )


def run_cli(url: str, key: int | None, correlation_key: str | None, show_all: bool) -> int:
    import httpx

    base = url.rstrip("/")
    try:
        with httpx.Client(base_url=base, timeout=10) as client:
            if key is not None:
                response = client.get(f"/process-instances/{key}")
                if response.status_code == 404:
                    print(f"no process instance {key}")
                    return 1
                print(format_instance(response.json()))
                return 0
            params = {"correlation_key": correlation_key} if correlation_key else {}
            items = client.get("/process-instances", params=params).json()["items"]
            if correlation_key and not show_all:
                for item in items:
                    print(format_instance(client.get(f"/process-instances/{item['key']}").json()))
                    print()
            else:
                for item in items:
                    print(format_summary(item))
            if not items:
                print("no process instances")
            return 0
    except httpx.HTTPError as error:
        print(f"cannot reach the inspection API at {base}: {error}")
        return 2
