"""The part of Camunda 8's Orchestration Cluster REST API (`/v2`, Camunda 8.8+) the project's client uses.

`fulfillment/camunda_api.py` searches process definitions, process instances, incidents and variables,
resolves incidents and updates a job's retries; this module serves exactly those endpoints, with the
request and answer shapes of the API's OpenAPI description (camunda/camunda,
`zeebe/gateway-protocol/src/main/proto/rest-api.yaml`: `SearchQueryRequest`, `SearchQueryPageResponse`,
`ProcessDefinitionResult`, `ProcessInstanceResult`, `IncidentResult`, `VariableSearchResult`,
`JobUpdateRequest`) and its error answers (`RestErrorMapper`: a rejection is a problem detail whose title
is the rejection type; NOT_FOUND 404, INVALID_STATE 409, INVALID_ARGUMENT 400). Keys travel as strings,
times as ISO 8601 in UTC. Anything else a request asks for (another filter, sort field or operator,
backward paging) is answered 400 naming it, never silently ignored. Unlike Camunda, whose searches read
an exporter's copy a moment behind the engine, the answers here are the engine's state at once.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from localzeebe import errors
from localzeebe.engine import Engine
from localzeebe.state import Incident, ProcessDefinition, ProcessInstance

Json = dict[str, Any]
TENANT: Final = "<default>"
DEFAULT_LIMIT: Final = 100
MAX_LIMIT: Final = 10_000
_HTTP_STATUS: Final = {
    errors.Rejection.NOT_FOUND: 404,
    errors.Rejection.INVALID_ARGUMENT: 400,
    errors.Rejection.INVALID_STATE: 409,
    errors.Rejection.ALREADY_EXISTS: 409,
    errors.Rejection.DEADLINE_EXCEEDED: 504,
}


@dataclass(frozen=True)
class Answer:
    status: int
    body: Json | None = None
    content_type: str = "application/json"


class BadRequest(Exception):
    """The request asks for something this API does not take (400)."""


def problem(status: int, title: str, detail: str, instance: str) -> Answer:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, "instance": instance}
    return Answer(status, body, "application/problem+json")


def iso_time(epoch_ms: int | None) -> str | None:
    if epoch_ms is None:
        return None
    moment = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def variable_value(value: Any) -> str:
    """A variable's value as the API gives it: its JSON text."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


# --- filters, sorting, paging ---------------------------------------------------------------------------
_OPERATORS: Final = frozenset({"$eq", "$neq", "$in", "$notIn", "$exists"})


def _normal(value: Any) -> Any:
    # Keys are strings in the API; a client may still send a number.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def check_condition(condition: Any, field: str) -> None:
    """A filter property is an exact value, or an object of the operators served here (`$eq`, `$neq`,
    `$in`, `$notIn`, `$exists`; the API's `$like` and range operators are not)."""
    if not isinstance(condition, dict):
        return
    unknown = set(condition) - _OPERATORS
    if unknown:
        raise BadRequest(f"filter {field}: operator {sorted(unknown)[0]} is not supported by localzeebe")
    for operator in ("$in", "$notIn"):
        if operator in condition and not isinstance(condition[operator], list):
            raise BadRequest(f"filter {field}: {operator} takes a list")


def matches(actual: Any, condition: Any) -> bool:
    actual = _normal(actual)
    if not isinstance(condition, dict):
        return bool(actual == _normal(condition))
    checks: dict[str, Callable[[Any], bool]] = {
        "$eq": lambda value: actual == _normal(value),
        "$neq": lambda value: actual != _normal(value),
        "$in": lambda values: actual in [_normal(v) for v in values],
        "$notIn": lambda values: actual not in [_normal(v) for v in values],
        "$exists": lambda value: (actual is not None) == bool(value),
    }
    return all(checks[operator](value) for operator, value in condition.items())


@dataclass(frozen=True)
class Resource:
    """One searchable kind of record: how to list, filter, sort and show it."""

    records: Callable[[], Iterable[Any]]
    fields: dict[str, Callable[[Any], Any]]  # filterable and sortable fields -> the record's value
    view: Callable[[Any], Json]
    tiebreak: Callable[[Any], Any]  # the record's unique key
    # Filters that are not one field's value: name -> (check the condition, match a record).
    special_filters: dict[str, tuple[Callable[[Any], None], Callable[[Any, Any], bool]]] | None = None
    sortable: frozenset[str] = frozenset()

    def search(self, query: Json) -> Json:
        unknown = set(query) - {"filter", "sort", "page"}
        if unknown:
            raise BadRequest(f"unknown request property {sorted(unknown)[0]!r}")
        filters = self._checked_filter(query.get("filter") or {})
        records = [record for record in self.records() if self._passes(record, filters)]
        order = self._order(query.get("sort") or [])
        records.sort(key=functools.cmp_to_key(lambda a, b: order.compare(order.values(a), order.values(b))))
        chosen = self._page(records, query.get("page") or {}, order)
        first, last = (order.cursor(chosen[0]), order.cursor(chosen[-1])) if chosen else (None, None)
        return {
            "items": [self.view(record) for record in chosen],
            "page": {
                "totalItems": len(records),
                "hasMoreTotalItems": False,
                "startCursor": first,
                "endCursor": last,
            },
        }

    def _passes(self, record: Any, filters: Json) -> bool:
        special = self.special_filters or {}
        for field, condition in filters.items():
            if field in special:
                if not special[field][1](record, condition):
                    return False
            elif not matches(self.fields[field](record), condition):
                return False
        return True

    def _checked_filter(self, filters: Any) -> Json:
        if not isinstance(filters, dict):
            raise BadRequest("filter must be an object")
        special = self.special_filters or {}
        for field, condition in filters.items():
            if field in special:
                special[field][0](condition)
            elif field in self.fields:
                check_condition(condition, field)
            else:
                raise BadRequest(f"filter field {field!r} is not supported by localzeebe")
        return filters

    def _order(self, sort: Any) -> Order:
        if not isinstance(sort, list):
            raise BadRequest("sort must be a list")
        criteria: list[tuple[Callable[[Any], Any], bool]] = []
        for item in sort:
            field = item.get("field") if isinstance(item, dict) else None
            if field not in self.sortable:
                raise BadRequest(f"sort field {field!r} is not supported by localzeebe")
            direction = str(item.get("order", "ASC")).upper()
            if direction not in {"ASC", "DESC"}:
                raise BadRequest(f"sort order {item.get('order')!r} must be ASC or DESC")
            criteria.append((self.fields[field], direction == "DESC"))
        # The record's unique key comes last, so the order is total and a cursor names one position.
        criteria.append((self.tiebreak, False))
        return Order(criteria)

    def _page(self, records: list[Any], page: Any, order: Order) -> list[Any]:
        if not isinstance(page, dict):
            raise BadRequest("page must be an object")
        unknown = set(page) - {"limit", "from", "after"}
        if unknown:
            raise BadRequest(f"page.{sorted(unknown)[0]} is not supported by localzeebe")
        if "from" in page and "after" in page:
            raise BadRequest("page: offset (from) and cursor (after) pagination cannot be combined")
        limit = page.get("limit", DEFAULT_LIMIT)
        if not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
            raise BadRequest(f"page.limit must be between 1 and {MAX_LIMIT}")
        if "after" in page:
            after = _decode_cursor(page["after"], len(order.criteria))
            return [r for r in records if order.compare(order.values(r), after) > 0][:limit]
        start = page.get("from", 0)
        if not isinstance(start, int) or start < 0:
            raise BadRequest("page.from must be a non-negative integer")
        return records[start : start + limit]


@dataclass(frozen=True)
class Order:
    """The sort criteria of one search: (the record's value, descending?), the unique key last."""

    criteria: list[tuple[Callable[[Any], Any], bool]]

    def values(self, record: Any) -> list[Any]:
        return [value(record) for value, _ in self.criteria]

    def compare(self, left: list[Any], right: list[Any]) -> int:
        """Field by field in each field's direction; None before any value."""
        for a, b, (_, descending) in zip(left, right, self.criteria, strict=True):
            if a == b:
                continue
            less = a is None or (b is not None and _less(a, b))
            return (-1 if less else 1) * (-1 if descending else 1)
        return 0

    def cursor(self, record: Any) -> str:
        text = json.dumps(self.values(record), separators=(",", ":"))
        return base64.urlsafe_b64encode(text.encode()).decode()


def _less(a: Any, b: Any) -> bool:
    try:
        return bool(a < b)
    except TypeError:
        return str(a) < str(b)


def _decode_cursor(cursor: Any, length: int) -> list[Any]:
    try:
        values = json.loads(base64.urlsafe_b64decode(str(cursor).encode()))
    except (ValueError, binascii.Error):
        raise BadRequest("page.after is not a cursor this search gave") from None
    if not isinstance(values, list) or len(values) != length:
        raise BadRequest("page.after is not a cursor this search gave")
    return values


# --- the records ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class VariableRecord:
    process_instance_key: int
    scope_key: int
    name: str
    value: Any


class RestApi:
    """Answers `/v2/...` requests against the engine (on the engine's event loop, like every command)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.searches: dict[str, Resource] = {
            "/v2/process-definitions/search": self._definitions(),
            "/v2/process-instances/search": self._instances(),
            "/v2/incidents/search": self._incidents(),
            "/v2/variables/search": self._variables(),
        }

    def handle(self, method: str, path: str, body: bytes) -> Answer:
        try:
            document = _json_object(body)
            if method == "POST" and path in self.searches:
                return Answer(200, self.searches[path].search(document))
            resolution = re.fullmatch(r"/v2/incidents/([^/]+)/resolution", path)
            if method == "POST" and resolution:
                return self._resolve_incident(_key(resolution.group(1), "incidentKey"), document, path)
            job = re.fullmatch(r"/v2/jobs/([^/]+)", path)
            if method == "PATCH" and job:
                return self._update_job(_key(job.group(1), "jobKey"), document, path)
        except BadRequest as error:
            return problem(400, "Bad Request", str(error), path)
        return problem(404, "Not Found", f"no endpoint {method} {path} in localzeebe", path)

    # writes ------------------------------------------------------------------------------------------
    def _resolve_incident(self, key: int, document: Json, path: str) -> Answer:
        if set(document) - {"operationReference"}:
            raise BadRequest(f"unknown request property {sorted(set(document))[0]!r}")
        return self._command("RESOLVE", path, lambda: self.engine.resolve_incident(key))

    def _update_job(self, key: int, document: Json, path: str) -> Answer:
        changeset = document.get("changeset")
        if not isinstance(changeset, dict) or not changeset:
            raise BadRequest("changeset must name at least one of retries, timeout")
        unknown = set(changeset) - {"retries", "timeout"}
        if unknown or set(document) - {"changeset", "operationReference"}:
            raise BadRequest(f"unknown property {sorted(unknown or set(document))[0]!r}")
        for name, value in changeset.items():
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
                raise BadRequest(f"changeset.{name} must be an integer")

        def update() -> None:
            if changeset.get("retries") is not None:
                self.engine.update_job_retries(key, changeset["retries"])
            if changeset.get("timeout") is not None:
                self.engine.update_job_timeout(key, changeset["timeout"])

        return self._command("UPDATE", path, update)

    @staticmethod
    def _command(intent: str, path: str, command: Callable[[], None]) -> Answer:
        try:
            command()
        except errors.CommandRejected as rejection:
            status = _HTTP_STATUS[rejection.rejection]
            detail = (
                f"Command '{intent}' rejected with code '{rejection.rejection.value}': {rejection.message}"
            )
            return problem(status, rejection.rejection.value, detail, path)
        return Answer(204)

    # searches ----------------------------------------------------------------------------------------
    def _definitions(self) -> Resource:
        engine = self.engine
        fields: dict[str, Callable[[ProcessDefinition], Any]] = {
            "processDefinitionKey": lambda d: d.key,
            "processDefinitionId": lambda d: d.bpmn_process_id,
            "name": lambda d: engine.models[d.key].name,
            "resourceName": lambda d: d.resource_name,
            "version": lambda d: d.version,
            "versionTag": lambda d: engine.models[d.key].version_tag,
            "tenantId": lambda _: TENANT,
            "isLatestVersion": lambda d: engine.latest.get(d.bpmn_process_id) == d.key,
        }
        return Resource(
            records=lambda: list(engine.definitions.values()),
            fields=fields,
            view=lambda d: {
                "processDefinitionKey": str(d.key),
                "processDefinitionId": d.bpmn_process_id,
                "name": engine.models[d.key].name,
                "resourceName": d.resource_name,
                "version": d.version,
                "versionTag": engine.models[d.key].version_tag,
                "tenantId": TENANT,
                "hasStartForm": False,
            },
            tiebreak=lambda d: d.key,
            sortable=frozenset(fields) - {"isLatestVersion"},
        )

    def _instances(self) -> Resource:
        engine = self.engine

        def has_incident(instance: ProcessInstance) -> bool:
            return any(engine.incidents[key].state == "ACTIVE" for key in instance.incident_keys)

        fields: dict[str, Callable[[ProcessInstance], Any]] = {
            "processInstanceKey": lambda i: i.key,
            "processDefinitionId": lambda i: i.bpmn_process_id,
            "processDefinitionKey": lambda i: i.process_definition_key,
            "processDefinitionVersion": lambda i: i.version,
            "processDefinitionVersionTag": lambda i: engine.models[i.process_definition_key].version_tag,
            "state": lambda i: i.state,
            "hasIncident": has_incident,
            "tenantId": lambda _: TENANT,
            "startDate": lambda i: iso_time(i.start_time),
            "endDate": lambda i: iso_time(i.end_time),
        }
        return Resource(
            records=lambda: list(engine.instances.values()),
            fields=fields,
            view=lambda i: {
                "processInstanceKey": str(i.key),
                "processDefinitionId": i.bpmn_process_id,
                "processDefinitionName": engine.models[i.process_definition_key].name,
                "processDefinitionVersion": i.version,
                "processDefinitionVersionTag": engine.models[i.process_definition_key].version_tag,
                "processDefinitionKey": str(i.process_definition_key),
                "parentProcessInstanceKey": None,
                "parentElementInstanceKey": None,
                "startDate": iso_time(i.start_time),
                "endDate": iso_time(i.end_time),
                "state": i.state,
                "hasIncident": has_incident(i),
                "tenantId": TENANT,
            },
            tiebreak=lambda i: i.key,
            special_filters={"variables": (_check_variable_conditions, _variables_match)},
            sortable=frozenset(fields) - {"hasIncident", "tenantId"},
        )

    def _incidents(self) -> Resource:
        engine = self.engine
        fields: dict[str, Callable[[Incident], Any]] = {
            "incidentKey": lambda i: i.key,
            "processDefinitionId": lambda i: i.bpmn_process_id,
            "processDefinitionKey": lambda i: engine.instances[i.process_instance_key].process_definition_key,
            "processInstanceKey": lambda i: i.process_instance_key,
            "errorType": lambda i: i.error_type,
            "errorMessage": lambda i: i.error_message,
            "elementId": lambda i: i.element_id,
            "elementInstanceKey": lambda i: i.element_instance_key,
            "creationTime": lambda i: iso_time(i.created),
            "state": lambda i: i.state,
            "jobKey": lambda i: i.job_key,
            "tenantId": lambda _: TENANT,
        }
        return Resource(
            records=lambda: list(engine.incidents.values()),
            fields=fields,
            view=lambda i: {name: _normal(value(i)) for name, value in fields.items()},
            tiebreak=lambda i: i.key,
            sortable=frozenset(fields),
        )

    def _variables(self) -> Resource:
        fields: dict[str, Callable[[VariableRecord], Any]] = {
            "processInstanceKey": lambda v: v.process_instance_key,
            "scopeKey": lambda v: v.scope_key,
            "name": lambda v: v.name,
            "value": lambda v: variable_value(v.value),
            "tenantId": lambda _: TENANT,
        }
        return Resource(
            records=lambda: list(self._variable_records()),
            fields=fields,
            view=lambda v: {
                "name": v.name,
                "value": variable_value(v.value),
                "isTruncated": False,
                "scopeKey": str(v.scope_key),
                "processInstanceKey": str(v.process_instance_key),
                "tenantId": TENANT,
            },
            tiebreak=lambda v: [v.scope_key, v.name],
            sortable=frozenset({"processInstanceKey", "scopeKey", "name"}),
        )

    def _variable_records(self) -> Iterator[VariableRecord]:
        for instance in self.engine.instances.values():
            for name, value in instance.variables.items():
                yield VariableRecord(instance.key, instance.key, name, value)
            for element in instance.elements.values():
                for name, value in element.variables.items():
                    yield VariableRecord(instance.key, element.key, name, value)


def _check_variable_conditions(conditions: Any) -> None:
    """`variables: [{name, value}]`, each value a filter property on the variable's JSON text."""
    if not isinstance(conditions, list) or not all(
        isinstance(c, dict) and set(c) == {"name", "value"} for c in conditions
    ):
        raise BadRequest("filter variables must be a list of {name, value}")
    for condition in conditions:
        check_condition(condition["value"], f"variables.{condition['name']}")


def _variables_match(instance: ProcessInstance, conditions: list[Json]) -> bool:
    """Every named variable of the instance's root scope has the value (its JSON text, e.g.
    `"\\"order_1\\""` for a string)."""
    return all(
        condition["name"] in instance.variables
        and matches(variable_value(instance.variables[condition["name"]]), condition["value"])
        for condition in conditions
    )


def _json_object(body: bytes) -> Json:
    if not body.strip():
        return {}
    try:
        document = json.loads(body)
    except ValueError:
        raise BadRequest("the body is not JSON") from None
    if not isinstance(document, dict):
        raise BadRequest("the body must be a JSON object")
    return document


def _key(text: str, name: str) -> int:
    if not text.isdigit():
        raise BadRequest(f"{name} must be a key (digits), got {text!r}")
    return int(text)
