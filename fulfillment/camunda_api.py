"""A small client of Camunda's Orchestration Cluster REST API (`/v2`, Camunda 8.8+), SaaS or self-managed.

The calls the project makes: the latest deployed definition of a process and the one with a given version
tag (the model deploy step and the worker's start check), the open incidents, paged (the incident
checker), root variables of instances and the instances of an order (the checker's order ids; the admin
actions), and resolving an incident and giving a job retries (the admin actions). Request and answer
shapes follow the API's reference (camunda/camunda, `zeebe/gateway-protocol/src/main/proto/rest-api.yaml`);
answers are read into pydantic models that ignore fields they do not name, and keys are kept as text.

Authentication is the gateway's OAuth client (client credentials, fulfillment/settings.py): a bearer token
from the authorization server, reused until shortly before it expires. No credentials: no Authorization
header (a local engine). Searches are eventually consistent in Camunda (they read the exporter's copy), so a
record written a moment ago may not be found yet.

Errors: `CamundaApiUnavailable` when the API cannot answer now (connect errors, timeouts, 429, 5xx, after
the configured attempts: reads are retried on all of them, writes only where the command cannot have been
taken), `CamundaApiRefused` for refused credentials (401, 403, or the authorization server refusing the
client), `CamundaNotFound` (404), `CamundaConflict` (409) and `CamundaApiRejected` for other refusals.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Annotated, Any, Final, Self, TypeVar

import httpx
from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from fulfillment.errors import (
    CamundaApiRefused,
    CamundaApiRejected,
    CamundaApiUnavailable,
    CamundaConflict,
    CamundaNotFound,
)
from fulfillment.settings import CamundaApiSettings
from fulfillment.workflow import PROCESS_ID

# Renew a token this long before it expires, so no call goes out with a token that expires in flight.
TOKEN_RENEWAL_MARGIN_SECONDS: Final = 30.0
PAGE_SIZE: Final = 100
VARIABLES_PAGE_SIZE: Final = 1000
_RETRYABLE_STATUS: Final = frozenset({429, 500, 502, 503, 504})
# A write answered with one of these was not taken, so sending it again cannot apply it twice.
_NOT_TAKEN_STATUS: Final = frozenset({429, 503})


def _key_text(value: object) -> object:
    # Keys are 64-bit integers: text in Camunda 8.8's API, and kept as text here so no JSON consumer loses
    # precision above 2**53.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


Key = Annotated[str, BeforeValidator(_key_text)]


class ApiModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True)


class ProcessDefinition(ApiModel):
    process_definition_key: Key
    process_definition_id: str
    version: int
    version_tag: str | None = None
    name: str | None = None
    resource_name: str | None = None


class ProcessInstance(ApiModel):
    process_instance_key: Key
    process_definition_id: str
    process_definition_key: Key | None = None
    process_definition_version: int | None = None
    process_definition_version_tag: str | None = None
    state: str  # ACTIVE, COMPLETED, TERMINATED
    has_incident: bool = False
    start_date: datetime | None = None
    end_date: datetime | None = None


class Incident(ApiModel):
    incident_key: Key
    process_instance_key: Key
    process_definition_id: str | None = None
    process_definition_key: Key | None = None
    # IO_MAPPING_ERROR, JOB_NO_RETRIES, CONDITION_ERROR, EXTRACT_VALUE_ERROR, UNHANDLED_ERROR_EVENT, ...
    error_type: str
    error_message: str = ""
    element_id: str | None = None
    element_instance_key: Key | None = None
    creation_time: datetime | None = None
    state: str
    job_key: Key | None = None


class Variable(ApiModel):
    name: str
    value: str  # the value's JSON text (truncated by Camunda when it is large)
    process_instance_key: Key
    scope_key: Key
    is_truncated: bool = False

    def decoded(self) -> Any:
        return json.loads(self.value)


class Page(ApiModel):
    total_items: int = 0
    end_cursor: str | None = None


ModelT = TypeVar("ModelT", bound=ApiModel)


class TokenSource:
    """OAuth client credentials: one bearer token, renewed shortly before it expires."""

    def __init__(
        self, http: httpx.Client, url: str, client_id: str, client_secret: str, audience: str | None
    ) -> None:
        self._http = http
        self._url = url
        self._form = {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret,
        }
        if audience:
            self._form["audience"] = audience
        self._token = ""
        self._renew_at = 0.0

    def authorization(self) -> str:
        if not self._token or time.monotonic() >= self._renew_at:
            self._fetch()
        return f"Bearer {self._token}"

    def _fetch(self) -> None:
        try:
            response = self._http.post(self._url, data=self._form)
        except httpx.HTTPError as error:
            reason = f"authorization server {self._url}: {type(error).__name__}"
            raise CamundaApiUnavailable(reason) from error
        if response.status_code in {400, 401, 403}:
            raise CamundaApiRefused(
                f"the authorization server refused the client credentials ({response.status_code})"
            )
        if not response.is_success:
            raise CamundaApiUnavailable(f"authorization server {self._url} answered {response.status_code}")
        try:
            answer = response.json()
            token, lifetime = str(answer["access_token"]), float(answer.get("expires_in", 300))
        except (ValueError, KeyError, TypeError):
            raise CamundaApiUnavailable("the authorization server's answer holds no access_token") from None
        self._token = token
        self._renew_at = time.monotonic() + max(0.0, lifetime - TOKEN_RENEWAL_MARGIN_SECONDS)


class CamundaApi:
    """Synchronous client; safe to share between threads (httpx.Client is)."""

    def __init__(
        self,
        base_url: str,
        *,
        token_url: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        audience: str | None = None,
        timeout_seconds: float = 10.0,
        max_attempts: int = 3,
    ) -> None:
        self._http = httpx.Client(base_url=f"{base_url.rstrip('/')}/v2", timeout=timeout_seconds)
        self._tokens = (
            TokenSource(self._http, token_url, client_id or "", client_secret or "", audience)
            if token_url
            else None
        )
        self._max_attempts = max_attempts
        self.base_url = base_url

    @classmethod
    def from_settings(cls, settings: CamundaApiSettings) -> Self:
        secret = settings.zeebe_client_secret
        return cls(
            settings.api_base_url,
            token_url=settings.api_token_url,
            client_id=settings.zeebe_client_id,
            client_secret=secret.get_secret_value() if secret else None,
            audience=settings.api_audience,
            timeout_seconds=settings.camunda_api_timeout_seconds,
            max_attempts=settings.camunda_api_max_attempts,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- process definitions ---------------------------------------------------------------------------
    def latest_process_definition(self, process_id: str) -> ProcessDefinition | None:
        """The definition new instances of `process_id` start with (highest version), or None."""
        query = {
            "filter": {"processDefinitionId": process_id},
            "sort": [{"field": "version", "order": "DESC"}],
            "page": {"limit": 1},
        }
        items, _ = self._search("/process-definitions/search", query, ProcessDefinition)
        return items[0] if items else None

    def process_definition(self, process_id: str, version_tag: str) -> ProcessDefinition | None:
        """The most recent definition of `process_id` deployed with that version tag, or None."""
        query = {
            "filter": {"processDefinitionId": process_id, "versionTag": version_tag},
            "sort": [{"field": "version", "order": "DESC"}],
            "page": {"limit": 1},
        }
        items, _ = self._search("/process-definitions/search", query, ProcessDefinition)
        return items[0] if items else None

    # --- incidents -------------------------------------------------------------------------------------
    def open_incidents(self, page_size: int = PAGE_SIZE) -> Iterator[list[Incident]]:
        """Every open (ACTIVE) incident of any process, whoever raised it, a page at a time (oldest first)."""
        query: dict[str, Any] = {
            "filter": {"state": "ACTIVE"},
            "sort": [{"field": "creationTime", "order": "ASC"}],
            "page": {"limit": page_size},
        }
        while True:
            items, page = self._search("/incidents/search", query, Incident)
            if items:
                yield items
            if len(items) < page_size or not page.end_cursor:
                return
            query["page"] = {"limit": page_size, "after": page.end_cursor}

    def resolve_incident(self, incident_key: str) -> None:
        """Resolves the incident; a job incident needs the job's retries first (`set_job_retries`)."""
        self._call("POST", f"/incidents/{_path_key(incident_key)}/resolution", {}, idempotent=False)

    def set_job_retries(self, job_key: str, retries: int) -> None:
        self._call(
            "PATCH", f"/jobs/{_path_key(job_key)}", {"changeset": {"retries": retries}}, idempotent=False
        )

    # --- instances and variables -----------------------------------------------------------------------
    def root_variable(self, process_instance_keys: Iterable[str], name: str) -> dict[str, Any]:
        """The value of the variable `name` in the root scope of each instance that has it, by instance key
        (truncated values are left out)."""
        keys = sorted(set(process_instance_keys))
        values: dict[str, Any] = {}
        for start in range(0, len(keys), PAGE_SIZE):
            chunk = keys[start : start + PAGE_SIZE]
            query = {
                "filter": {"name": name, "processInstanceKey": {"$in": chunk}},
                # Room for local variables of the same name too, which are left out below.
                "page": {"limit": VARIABLES_PAGE_SIZE},
            }
            items, _ = self._search("/variables/search", query, Variable)
            for variable in items:
                if variable.scope_key == variable.process_instance_key and not variable.is_truncated:
                    values[variable.process_instance_key] = variable.decoded()
        return values

    def process_instances_of_order(
        self, order_id: str, process_id: str = PROCESS_ID, state: str | None = None
    ) -> list[ProcessInstance]:
        """The instances of `process_id` whose `order_id` variable is this order (the message start event
        sets it), newest first; optionally only those in `state` (e.g. ACTIVE)."""
        filters: dict[str, Any] = {
            "processDefinitionId": process_id,
            "variables": [{"name": "order_id", "value": json.dumps(order_id)}],
        }
        if state:
            filters["state"] = state
        query = {
            "filter": filters,
            "sort": [{"field": "startDate", "order": "DESC"}],
            "page": {"limit": PAGE_SIZE},
        }
        items, _ = self._search("/process-instances/search", query, ProcessInstance)
        return items

    # --- plumbing --------------------------------------------------------------------------------------
    def _search(self, path: str, query: dict[str, Any], model: type[ModelT]) -> tuple[list[ModelT], Page]:
        answer = self._call("POST", path, query, idempotent=True).json()
        try:
            items = [model.model_validate(item) for item in answer.get("items") or []]
            return items, Page.model_validate(answer.get("page") or {})
        except (ValidationError, AttributeError) as error:
            raise CamundaApiUnavailable(f"POST {path}: unexpected answer: {error}") from None

    def _call(self, method: str, path: str, body: dict[str, Any], *, idempotent: bool) -> httpx.Response:
        def again(error: BaseException) -> bool:
            if isinstance(error, _Retry):
                return idempotent or error.status in _NOT_TAKEN_STATUS
            # A request that never reached the API (or a token request) can always be sent again; one that
            # may have reached it, only when it is a read.
            never_sent = isinstance(error, (httpx.ConnectError, httpx.ConnectTimeout, CamundaApiUnavailable))
            return never_sent or (idempotent and isinstance(error, httpx.HTTPError))

        retrying = Retrying(
            stop=stop_after_attempt(self._max_attempts),
            wait=wait_exponential(multiplier=0.2, max=2),
            retry=retry_if_exception(again),
            reraise=True,
        )
        try:
            return retrying(self._send, method, path, body)
        except _Retry as error:
            raise CamundaApiUnavailable(f"{method} {path}: {error.status} {error.detail}") from None
        except httpx.HTTPError as error:
            raise CamundaApiUnavailable(f"{method} {path}: {type(error).__name__}: {error}") from error

    def _send(self, method: str, path: str, body: dict[str, Any]) -> httpx.Response:
        headers = {"Accept": "application/json"}
        if self._tokens is not None:
            headers["Authorization"] = self._tokens.authorization()
        response = self._http.request(method, path, json=body, headers=headers)
        if response.is_success:
            return response
        title, detail = _problem(response)
        if response.status_code in {401, 403}:
            raise CamundaApiRefused(f"{method} {path}: {response.status_code} {title}: {detail}")
        if response.status_code in _RETRYABLE_STATUS:
            raise _Retry(response.status_code, detail)
        rejection = {404: CamundaNotFound, 409: CamundaConflict}.get(response.status_code, CamundaApiRejected)
        raise rejection(response.status_code, title, detail)


class _Retry(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(status, detail)
        self.status = status
        self.detail = detail


def _problem(response: httpx.Response) -> tuple[str, str]:
    """Title and detail of an RFC 9457 problem detail (Camunda's error answers), or the raw text."""
    try:
        answer = response.json()
    except ValueError:
        return response.reason_phrase, response.text[:200]
    if not isinstance(answer, dict):
        return response.reason_phrase, response.text[:200]
    return str(answer.get("title") or response.reason_phrase), str(answer.get("detail") or "")[:500]


def _path_key(key: str) -> str:
    if not str(key).isdigit():
        raise ValueError(f"not a key: {key!r}")
    return str(key)
