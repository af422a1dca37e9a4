"""Settings of every part, from the environment (names as in docs/contracts.md: the field name in upper case).

A secret setting may hold a Secret Manager reference `projects/P/secrets/S/versions/V`; it is resolved while
the settings load, once per process. `load_settings` turns any missing or malformed setting into ONE line on
stderr naming it and exit code 2, so a misconfigured deployment fails at start instead of on the first
request. Secret values never appear in that line.
"""

from __future__ import annotations

import sys
from typing import Annotated, Final, Literal, Self, TypeVar

from pydantic import (
    AfterValidator,
    AnyHttpUrl,
    BeforeValidator,
    Field,
    SecretStr,
    TypeAdapter,
    ValidationError,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from fulfillment.errors import SecretUnavailable
from fulfillment.secrets import resolve_secret
from fulfillment.signatures import check_secret, split_secrets

EXIT_BAD_SETTINGS: Final = 2
DEFAULT_ZEEBE_ADDRESS: Final = "localhost:26500"
DEFAULT_CAMUNDA_REGION: Final = "bru-2"
# Camunda 8 Run's and Docker Compose's REST address.
DEFAULT_CAMUNDA_API_URL: Final = "http://localhost:8080"
CAMUNDA_SAAS_TOKEN_URL: Final = "https://login.cloud.camunda.io/oauth/token"  # noqa: S105 - a URL
CAMUNDA_SAAS_AUDIENCE: Final = "zeebe.camunda.io"

_URL_ADAPTER: Final = TypeAdapter(AnyHttpUrl)


def _resolve(value: object) -> object:
    if not isinstance(value, str):
        return value
    try:
        return resolve_secret(value)
    except SecretUnavailable as exc:
        raise ValueError(str(exc)) from exc


def _http_url(value: str) -> str:
    _URL_ADAPTER.validate_python(value)
    return value.rstrip("/")


def _host_port(value: str) -> str:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError("must be host:port")
    return value


def _webhook_secrets(value: SecretStr) -> SecretStr:
    secrets = split_secrets(value.get_secret_value())
    if not secrets:
        raise ValueError("must hold at least one whsec_ secret")
    for secret in secrets:
        check_secret(secret)
    return value


def first_secret(value: SecretStr) -> str:
    """The secret to sign with: the first one listed (the newest during a rotation)."""
    return split_secrets(value.get_secret_value())[0]


Secret = Annotated[SecretStr, BeforeValidator(_resolve)]
WebhookSecrets = Annotated[Secret, AfterValidator(_webhook_secrets)]
HttpUrl = Annotated[str, AfterValidator(_http_url)]


class _Settings(BaseSettings):
    model_config = SettingsConfigDict(
        extra="ignore",
        # An empty variable means "not set": deployment templates often export optional names empty.
        env_ignore_empty=True,
        frozen=True,
        # Built when first loaded, not at import: each part loads one of these classes, and building the
        # others would only lengthen its cold start.
        defer_build=True,
    )


class GivenValuesOnly(BaseSettings):
    """Mixed in before a settings class, it takes only the values passed to it and nothing from the
    environment: a local part or a check must not pick up a developer's real credentials from the shell."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


class MedusaSettings(_Settings):
    """Where the plugin's signed routes are; each caller adds its own secret for them (no Medusa API key:
    no admin credential leaves Medusa)."""

    medusa_backend_url: HttpUrl
    medusa_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    # Attempts per call of a plugin route on connect errors, timeouts, 429 and 5xx (1 = no retry).
    medusa_max_attempts: int = Field(default=3, ge=1, le=10)


class CamundaClientSettings(_Settings):
    """The OAuth client the gateway (gRPC) and Camunda's REST API both take. No credentials = no auth (a
    local engine); client id + secret + authorization server URL = OAuth (self-managed); client id + secret
    + cluster id = Camunda SaaS."""

    zeebe_client_id: str | None = None
    zeebe_client_secret: Secret | None = None
    zeebe_authorization_server_url: HttpUrl | None = None
    zeebe_token_audience: str | None = None
    camunda_cluster_id: str | None = None
    camunda_cluster_region: str | None = None

    @model_validator(mode="after")
    def _complete_credentials(self) -> Self:
        if self.zeebe_client_id and not self.zeebe_client_secret:
            raise ValueError("ZEEBE_CLIENT_SECRET is required with ZEEBE_CLIENT_ID")
        if self.zeebe_client_secret and not self.zeebe_client_id:
            raise ValueError("ZEEBE_CLIENT_ID is required with ZEEBE_CLIENT_SECRET")
        if self.zeebe_client_id and not (self.camunda_cluster_id or self.zeebe_authorization_server_url):
            raise ValueError(
                "ZEEBE_AUTHORIZATION_SERVER_URL (self-managed) or CAMUNDA_CLUSTER_ID (SaaS) "
                "is required with ZEEBE_CLIENT_ID"
            )
        if self.camunda_cluster_id and not self.zeebe_client_id:
            raise ValueError("ZEEBE_CLIENT_ID and ZEEBE_CLIENT_SECRET are required with CAMUNDA_CLUSTER_ID")
        return self

    @property
    def engine_mode(self) -> Literal["insecure", "oauth", "saas"]:
        if self.camunda_cluster_id:
            return "saas"
        if self.zeebe_client_id:
            return "oauth"
        return "insecure"


class EngineSettings(CamundaClientSettings):
    zeebe_address: Annotated[str, AfterValidator(_host_port)] = DEFAULT_ZEEBE_ADDRESS
    # Deadline of one call to the gateway (e.g. PublishMessage).
    zeebe_request_timeout_seconds: float = Field(default=10.0, gt=0, le=120)


class CamundaApiSettings(CamundaClientSettings):
    """Camunda's Orchestration Cluster REST API (`/v2`, Camunda 8.8+): the model deploy step's version
    guard, the worker's start check, the incident checker. The same OAuth client as the gateway."""

    # The API's base URL, without `/v2` (SaaS: derived from the cluster id and region when unset).
    camunda_api_url: HttpUrl | None = None
    # The token audience for the API; unset: ZEEBE_TOKEN_AUDIENCE, or on SaaS zeebe.camunda.io.
    camunda_api_audience: str | None = None
    camunda_api_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    # Attempts per API call on connect errors, timeouts, 429 and 5xx (1 = no retry).
    camunda_api_max_attempts: int = Field(default=3, ge=1, le=10)

    @property
    def api_base_url(self) -> str:
        if self.camunda_api_url:
            return self.camunda_api_url
        if self.camunda_cluster_id:
            region = self.camunda_cluster_region or DEFAULT_CAMUNDA_REGION
            return f"https://{region}.zeebe.camunda.io/{self.camunda_cluster_id}"
        return DEFAULT_CAMUNDA_API_URL

    @property
    def api_token_url(self) -> str | None:
        """Where the API's tokens come from; None: no credentials, no auth."""
        if self.engine_mode == "insecure":
            return None
        return self.zeebe_authorization_server_url or CAMUNDA_SAAS_TOKEN_URL

    @property
    def api_audience(self) -> str | None:
        saas_default = CAMUNDA_SAAS_AUDIENCE if self.engine_mode == "saas" else None
        return self.camunda_api_audience or self.zeebe_token_audience or saas_default


class FunctionSettings(_Settings):
    """What both HTTP functions share."""

    # A body still arriving after this long is answered 408: a slow client holds a server thread no longer.
    http_body_deadline_seconds: float = Field(default=10.0, gt=0, le=300)


class WebhookSettings(EngineSettings, FunctionSettings):
    """No Medusa setting: the signed event carries what the process needs, so the webhook never calls it."""

    order_webhook_secret: WebhookSecrets
    # How long Zeebe keeps the "order-placed" message buffered. While it is buffered a redelivery with the
    # same message id is refused by Zeebe itself; after it, the workflow status the plugin read and signed
    # into the event catches redeliveries. So this is the dedup window that covers the time before the
    # first status lands in Medusa.
    order_message_ttl_seconds: int = Field(default=3600, ge=1, le=7 * 24 * 3600)

    @property
    def order_webhook_secrets(self) -> list[str]:
        return split_secrets(self.order_webhook_secret.get_secret_value())


class StatusSettings(MedusaSettings, FunctionSettings):
    status_update_secret: WebhookSecrets
    # Signs the calls of the plugin's status route (its option `statusSecret`).
    medusa_status_secret: WebhookSecrets

    @property
    def status_update_secrets(self) -> list[str]:
        return split_secrets(self.status_update_secret.get_secret_value())

    @property
    def medusa_signing_secret(self) -> str:
        return first_secret(self.medusa_status_secret)


class WorkerSettings(MedusaSettings, EngineSettings, CamundaApiSettings):
    status_update_url: HttpUrl
    status_update_secret: WebhookSecrets
    status_update_use_id_token: bool = False
    # Signs the calls of the plugin's view and cancel routes (its option `workerSecret`).
    medusa_worker_secret: WebhookSecrets
    worker_max_runtime_seconds: float = Field(default=0, ge=0)
    # Jobs one worker runs at once, all job types together (and the threads that run them).
    worker_max_jobs: int = Field(default=32, ge=1, le=1000)
    # The most calls per second one worker makes to Medusa: the plugin's view and cancel routes, and the
    # status reports (each is one call of the plugin's status route by the status function). Waits, never
    # fails. A worker makes 4 calls per order (one view, three status writes); one Medusa process answers
    # about 55-62 of them a second (docs/capacity.md). 15/s (3.75 orders/s) keeps one worker near a quarter
    # of that, leaving Medusa room for the shop's own traffic, and two workers together (30/s) near half.
    # Scale it with the instance count: the sum over all workers should stay below Medusa's ceiling.
    medusa_calls_per_second: float = Field(default=15.0, gt=0, le=1000)
    # The most of those calls one worker has under way at once (status reports included), like a connection
    # pool's limit: when Medusa slows down, further calls wait at the worker instead of piling up at Medusa.
    # A call waits for a place, never fails before its job's deadline.
    medusa_max_calls_in_flight: int = Field(default=8, ge=1, le=256)

    @property
    def status_update_signing_secret(self) -> str:
        return first_secret(self.status_update_secret)

    @property
    def medusa_signing_secret(self) -> str:
        return first_secret(self.medusa_worker_secret)


class ModelDeploySettings(EngineSettings, CamundaApiSettings):
    """The model deploy step: deploys through the gateway, reads the deployed versions through the API."""


SettingsT = TypeVar("SettingsT", bound=BaseSettings)


def describe_errors(error: ValidationError) -> str:
    """One line naming each bad setting by its environment variable, without the offending values."""
    problems = []
    for item in error.errors(include_input=False, include_url=False):
        name = ".".join(str(part) for part in item["loc"]).upper()
        message = " ".join(item["msg"].removeprefix("Value error, ").split())
        problems.append(f"{name}: {message}" if name else message)
    return "invalid settings: " + "; ".join(problems)


def load_settings(cls: type[SettingsT]) -> SettingsT:
    """Settings from the environment, or one line on stderr and exit code 2."""
    try:
        return cls()
    except ValidationError as exc:
        print(describe_errors(exc), file=sys.stderr, flush=True)
        raise SystemExit(EXIT_BAD_SETTINGS) from None
