"""EngineBridge against a minimal in-test gateway (pyzeebe's own generated servicer on a free port)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from concurrent import futures
from typing import Any

import grpc
import pytest
from pydantic import SecretStr
from pyzeebe.proto import gateway_pb2, gateway_pb2_grpc

from fulfillment import engine as engine_module
from fulfillment.engine import EngineBridge, create_channel
from fulfillment.errors import EngineError, EngineUnavailable
from fulfillment.settings import EngineSettings

from .helpers import ORDER_ID


class FakeGateway(gateway_pb2_grpc.GatewayServicer):
    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.seen_ids: set[str] = set()
        self.delay_seconds = 0.0
        self.fail_with: grpc.StatusCode | None = None
        self.lock = threading.Lock()

    def PublishMessage(self, request: Any, context: grpc.ServicerContext) -> Any:
        time.sleep(self.delay_seconds)
        if self.fail_with is not None:
            context.abort(self.fail_with, "injected")
        with self.lock:
            if request.messageId and request.messageId in self.seen_ids:
                context.abort(grpc.StatusCode.ALREADY_EXISTS, "message with that id is buffered")
            self.seen_ids.add(request.messageId)
            self.messages.append(request)
            return gateway_pb2.PublishMessageResponse(key=len(self.messages))


def new_gateway() -> FakeGateway:
    # The generated stubs declare every RPC abstract; the base class answers UNIMPLEMENTED for the rest.
    return FakeGateway()  # type: ignore[abstract]


@pytest.fixture
def gateway() -> Iterator[tuple[FakeGateway, str]]:
    servicer = new_gateway()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    gateway_pb2_grpc.add_GatewayServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield servicer, f"127.0.0.1:{port}"
    server.stop(grace=None)


@pytest.fixture
def bridge(gateway: tuple[FakeGateway, str]) -> Iterator[EngineBridge]:
    settings = EngineSettings(zeebe_address=gateway[1], zeebe_request_timeout_seconds=1)
    engine = EngineBridge.from_settings(settings, message_ttl_seconds=120)
    yield engine
    engine.close()


VARIABLES = {"order_id": ORDER_ID, "display_id": 7, "email": "a@b.c", "currency_code": "eur", "total": 1.5}


def test_publish_then_duplicate(gateway: tuple[FakeGateway, str], bridge: EngineBridge) -> None:
    assert bridge.publish_order_placed(ORDER_ID, VARIABLES) == "started"
    assert bridge.publish_order_placed(ORDER_ID, VARIABLES) == "duplicate"
    [message] = gateway[0].messages
    assert message.name == "order-placed"
    assert message.correlationKey == ORDER_ID
    assert message.messageId == ORDER_ID
    assert message.timeToLive == 120_000
    assert '"currency_code": "eur"' in message.variables


def test_a_cancel_is_answered_canceled_then_duplicate(
    gateway: tuple[FakeGateway, str], bridge: EngineBridge
) -> None:
    assert bridge.publish_order_canceled(ORDER_ID) == "canceled"
    assert bridge.publish_order_canceled(ORDER_ID) == "duplicate"
    [message] = gateway[0].messages
    assert (message.name, message.correlationKey) == ("order-canceled", ORDER_ID)
    assert message.messageId == f"{ORDER_ID}.canceled"


def test_publishes_from_many_threads_over_one_connection(
    gateway: tuple[FakeGateway, str], bridge: EngineBridge
) -> None:
    ids = [f"order_{i:04d}" for i in range(40)]
    with futures.ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(lambda order_id: bridge.publish_order_placed(order_id, {}), ids + ids))
    assert outcomes.count("started") == 40
    assert outcomes.count("duplicate") == 40
    assert sorted(m.messageId for m in gateway[0].messages) == ids
    first_client = bridge.client
    bridge.publish_order_placed("order_again", {})
    assert bridge.client is first_client


@pytest.mark.parametrize(
    "code", [grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.INTERNAL]
)
def test_transient_gateway_errors_are_unavailable(
    gateway: tuple[FakeGateway, str], bridge: EngineBridge, code: grpc.StatusCode
) -> None:
    gateway[0].fail_with = code
    with pytest.raises(EngineUnavailable):
        bridge.publish_order_placed(ORDER_ID, {})


def test_permanent_errors_are_engine_errors_not_unavailable(
    gateway: tuple[FakeGateway, str], bridge: EngineBridge
) -> None:
    gateway[0].fail_with = grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(EngineError) as raised:
        bridge.publish_order_placed(ORDER_ID, {})
    assert not isinstance(raised.value, EngineUnavailable)


def test_slow_gateway_hits_the_deadline(gateway: tuple[FakeGateway, str], bridge: EngineBridge) -> None:
    gateway[0].delay_seconds = 2.5
    started = time.monotonic()
    with pytest.raises(EngineUnavailable, match="within 1 s"):
        bridge.publish_order_placed(ORDER_ID, {})
    assert time.monotonic() - started < 2.0


def test_unreachable_gateway_is_unavailable_and_the_bridge_recovers_when_it_comes_up() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    bridge = EngineBridge.from_settings(EngineSettings(zeebe_address=f"127.0.0.1:{port}"))
    servicer = new_gateway()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    try:
        # More failures than pyzeebe's default of 10 retries, after which its client closes for good.
        for _ in range(12):
            with pytest.raises(EngineUnavailable):
                bridge.publish_order_placed(ORDER_ID, {})
        gateway_pb2_grpc.add_GatewayServicer_to_server(servicer, server)
        server.add_insecure_port(f"127.0.0.1:{port}")
        server.start()
        deadline = time.monotonic() + 10
        while True:
            try:
                assert bridge.publish_order_placed(ORDER_ID, {}) == "started"
                break
            except EngineUnavailable:
                assert time.monotonic() < deadline, "bridge did not reconnect"
                time.sleep(0.2)
    finally:
        bridge.close()
        server.stop(None)


def test_bridge_started_in_a_parent_process_is_restarted_after_fork(
    gateway: tuple[FakeGateway, str], bridge: EngineBridge, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert bridge.publish_order_placed("order_parent", {}) == "started"
    parent_client = bridge.client
    monkeypatch.setattr("os.getpid", lambda: -1)  # what a forked worker would see
    assert bridge.publish_order_placed("order_child", {}) == "started"
    assert bridge.client is not parent_client


def test_create_channel_per_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, dict[str, Any]]] = []

    def recorder(name: str) -> Any:
        def create(**kwargs: Any) -> str:
            calls.append((name, kwargs))
            return name

        return create

    for name in ("create_insecure_channel", "create_oauth2_client_credentials_channel"):
        monkeypatch.setattr(engine_module, name, recorder(name))
    monkeypatch.setattr(
        engine_module, "create_camunda_cloud_channel", recorder("create_camunda_cloud_channel")
    )
    secret = SecretStr("client-secret")
    create_channel(EngineSettings(zeebe_address="127.0.0.1:26500"))
    create_channel(
        EngineSettings(
            zeebe_address="zeebe.example:443",
            zeebe_client_id="id",
            zeebe_client_secret=secret,
            zeebe_authorization_server_url="https://login.example/token",
            zeebe_token_audience="zeebe-api",
        )
    )
    create_channel(EngineSettings(zeebe_client_id="id", zeebe_client_secret=secret, camunda_cluster_id="c1"))
    (insecure, i_args), (oauth, o_args), (saas, s_args) = calls
    assert (insecure, i_args["grpc_address"]) == ("create_insecure_channel", "127.0.0.1:26500")
    assert oauth == "create_oauth2_client_credentials_channel"
    assert o_args["grpc_address"] == "zeebe.example:443"
    assert o_args["client_secret"] == "client-secret"
    assert o_args["authorization_server"] == "https://login.example/token"
    assert o_args["audience"] == "zeebe-api"
    assert saas == "create_camunda_cloud_channel"
    assert (s_args["cluster_id"], s_args["region"]) == ("c1", "bru-2")
    assert s_args["audience"] == "zeebe.camunda.io"


def test_real_channels_can_be_created_for_every_mode() -> None:
    settings = [
        EngineSettings(zeebe_address="127.0.0.1:1"),
        EngineSettings(
            zeebe_client_id="id",
            zeebe_client_secret=SecretStr("s"),
            zeebe_authorization_server_url="https://login.example/token",
        ),
        EngineSettings(zeebe_client_id="id", zeebe_client_secret=SecretStr("s"), camunda_cluster_id="c1"),
    ]

    async def open_and_close() -> int:
        channels = [create_channel(s) for s in settings]
        for channel in channels:
            await channel.close()
        return len(channels)

    assert asyncio.run(open_and_close()) == 3


def test_a_connection_that_cannot_open_is_unavailable_and_leaves_no_thread_behind() -> None:
    def bridge_threads() -> int:
        return sum(thread.name == "engine-bridge" for thread in threading.enumerate())

    def broken_channel() -> grpc.aio.Channel:
        raise ValueError("no channel today")

    bridge = EngineBridge(broken_channel, request_timeout_seconds=1)
    before = bridge_threads()
    for _ in range(3):
        with pytest.raises(EngineUnavailable, match="no channel today"):
            bridge.publish_order_placed(ORDER_ID, {})
    assert bridge_threads() == before
