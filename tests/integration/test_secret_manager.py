"""Secret Manager references in settings, resolved by the REAL google-cloud-secret-manager client against a
local Secret Manager on 127.0.0.1 that implements `AccessSecretVersion` and counts the calls.

Both transports of the client library are exercised: REST (HTTP/JSON), which fulfillment.secrets uses in
production because functions-framework forks its workers after import and a gRPC channel must not cross a
fork, and gRPC, the library's default. The tests hand fulfillment.secrets a client pointed at the local server
with `use_client`; everything after it (reference detection, caching, error handling, settings loading) is
the production path.
"""

from __future__ import annotations

import base64
import json
import os
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent import futures
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import grpc
import pytest
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud.secretmanager_v1 import SecretManagerServiceClient
from google.cloud.secretmanager_v1.services.secret_manager_service.transports import (
    SecretManagerServiceGrpcTransport,
)
from google.cloud.secretmanager_v1.types import AccessSecretVersionRequest, AccessSecretVersionResponse

from fulfillment import secrets
from fulfillment.settings import EXIT_BAD_SETTINGS, StatusSettings, load_settings

pytestmark = pytest.mark.integration

PROJECT = "shop-prod"
SERVICE = "google.cloud.secretmanager.v1.SecretManagerService"
REST_ACCESS_PATH = re.compile(r"^/v1/(projects/[^/]+/secrets/[^/]+/versions/[^/:]+):access$")
SETTING_PREFIXES = ("MEDUSA_", "ZEEBE_", "CAMUNDA_", "ORDER_", "STATUS_", "WORKER_")


def reference(secret: str, version: str = "1") -> str:
    return f"projects/{PROJECT}/secrets/{secret}/versions/{version}"


@dataclass
class SecretStore:
    """What the local Secret Manager holds, and how often each version was read."""

    values: dict[str, bytes]
    calls: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def access(self, name: str) -> bytes | None:
        with self.lock:
            self.calls[name] += 1
        return self.values.get(name)


def not_found_message(name: str) -> str:
    return f"Secret Version [{name}] not found or has no versions."


# ---------------------------------------------------------------------------------------------------------
# The local Secret Manager, once per transport
# ---------------------------------------------------------------------------------------------------------
def serve_grpc(store: SecretStore) -> tuple[SecretManagerServiceClient, Callable[[], None]]:
    def access_secret_version(request: Any, context: grpc.ServicerContext) -> Any:
        data = store.access(request.name)
        if data is None:
            context.abort(grpc.StatusCode.NOT_FOUND, not_found_message(request.name))
        return AccessSecretVersionResponse(name=request.name, payload={"data": data})

    # The library ships no servicer base class: register the method by its full name with the proto-plus
    # request and response types' own (de)serializers.
    handler = grpc.method_handlers_generic_handler(
        SERVICE,
        {
            "AccessSecretVersion": grpc.unary_unary_rpc_method_handler(
                access_secret_version,
                request_deserializer=AccessSecretVersionRequest.deserialize,
                response_serializer=AccessSecretVersionResponse.serialize,
            )
        },
    )
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    client = SecretManagerServiceClient(transport=SecretManagerServiceGrpcTransport(channel=channel))

    def stop() -> None:
        channel.close()
        server.stop(grace=None).wait(5)

    return client, stop


def serve_rest(store: SecretStore) -> tuple[SecretManagerServiceClient, Callable[[], None]]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            match = REST_ACCESS_PATH.match(self.path.split("?")[0])
            if match is None:
                self.reply(404, {"error": {"code": 404, "message": "no such method", "status": "NOT_FOUND"}})
                return
            name = match.group(1)
            data = store.access(name)
            if data is None:
                error = {"code": 404, "message": not_found_message(name), "status": "NOT_FOUND"}
                self.reply(404, {"error": error})
                return
            self.reply(200, {"name": name, "payload": {"data": base64.b64encode(data).decode()}})

        def reply(self, status: int, body: dict[str, Any]) -> None:
            encoded = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(encoded)))
            self.end_headers()
            self.wfile.write(encoded)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the test asserts on the call counts instead."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    client = SecretManagerServiceClient(
        credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
        transport="rest",
        client_options=ClientOptions(api_endpoint=f"http://127.0.0.1:{server.server_address[1]}"),
    )

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(5)

    return client, stop


SERVERS = {"rest": serve_rest, "grpc": serve_grpc}


# ---------------------------------------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------------------------------------
STATUS_SECRET = "whsec_" + base64.b64encode(b"status-update-signing-key-32byte").decode()
MEDUSA_STATUS_SECRET = "whsec_" + base64.b64encode(b"medusa-status-route-signing-key!").decode()


@pytest.fixture
def store() -> SecretStore:
    # Trailing newlines as `echo ... | gcloud secrets versions add --data-file=-` leaves them.
    return SecretStore(
        values={
            reference("status-update-secret", "2"): f"{STATUS_SECRET}\n".encode(),
            reference("medusa-status-secret"): f"{MEDUSA_STATUS_SECRET}\n".encode(),
        }
    )


@pytest.fixture(params=sorted(SERVERS))
def secret_manager(request: pytest.FixtureRequest, store: SecretStore) -> Iterator[SecretStore]:
    """A local Secret Manager that fulfillment.secrets reads through the real client library."""
    client, stop = SERVERS[request.param](store)
    secrets.use_client(client)
    try:
        yield store
    finally:
        secrets.use_client(None)
        stop()


@pytest.fixture
def status_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """The status function's settings as Terraform gives them: secrets as Secret Manager references."""
    for name in list(os.environ):
        if name.startswith(SETTING_PREFIXES):
            monkeypatch.delenv(name)
    monkeypatch.setenv("MEDUSA_BACKEND_URL", "https://shop.example.com")
    monkeypatch.setenv("MEDUSA_STATUS_SECRET", reference("medusa-status-secret"))
    monkeypatch.setenv("STATUS_UPDATE_SECRET", reference("status-update-secret", "2"))
    return monkeypatch


# ---------------------------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------------------------
def test_reference_resolves_to_the_stored_value(secret_manager: SecretStore) -> None:
    assert secrets.resolve_secret(reference("medusa-status-secret")) == MEDUSA_STATUS_SECRET
    assert secret_manager.calls == Counter({reference("medusa-status-secret"): 1})


def test_each_reference_is_read_once_per_instance(
    secret_manager: SecretStore, status_env: pytest.MonkeyPatch
) -> None:
    first = load_settings(StatusSettings)
    again = load_settings(StatusSettings)  # e.g. a second module importing the settings
    for settings in (first, again):
        assert settings.medusa_signing_secret == MEDUSA_STATUS_SECRET
        assert settings.status_update_secrets == [STATUS_SECRET]
    assert secrets.resolve_secret(reference("medusa-status-secret")) == MEDUSA_STATUS_SECRET
    assert secret_manager.calls == Counter(
        {reference("medusa-status-secret"): 1, reference("status-update-secret", "2"): 1}
    )


def test_missing_secret_stops_start_with_one_line_naming_the_setting(
    secret_manager: SecretStore, status_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = reference("status-update-secret", "7")
    status_env.setenv("STATUS_UPDATE_SECRET", missing)
    with pytest.raises(SystemExit) as stopped:
        load_settings(StatusSettings)
    assert stopped.value.code == EXIT_BAD_SETTINGS
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("invalid settings: STATUS_UPDATE_SECRET:")
    assert missing in lines[0]
    assert MEDUSA_STATUS_SECRET not in lines[0]
    assert STATUS_SECRET not in lines[0]
    assert secret_manager.calls[missing] == 1
