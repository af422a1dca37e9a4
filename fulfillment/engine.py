"""The connection to Zeebe / Camunda 8 from settings, and a thread-safe bridge for sync callers.

pyzeebe is asyncio-only, and its SyncZeebeClient fails outside the main thread, which is exactly where a
threaded server (functions-framework's gunicorn gthread workers) runs a request. EngineBridge therefore owns
one asyncio loop in a daemon thread with one ZeebeClient (and one gRPC channel) created on that loop; request
threads hand coroutines to it with `run_coroutine_threadsafe` and wait for the result with a deadline. The
connection is reused across requests and started lazily in the process that uses it, because gunicorn forks
its workers after the function module was imported and a gRPC channel must not cross a fork.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
import os
import threading
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any, Final, Self, TypeVar

import grpc
from pyzeebe import (
    ZeebeClient,
    create_camunda_cloud_channel,
    create_insecure_channel,
    create_oauth2_client_credentials_channel,
)
from pyzeebe.errors import (
    MessageAlreadyExistsError,
    PyZeebeError,
    ZeebeBackPressureError,
    ZeebeDeadlineExceeded,
    ZeebeGatewayUnavailableError,
    ZeebeInternalError,
)

from fulfillment.errors import EngineError, EngineUnavailable
from fulfillment.intake import Cancellation, Start
from fulfillment.logs import bind
from fulfillment.settings import (
    CAMUNDA_SAAS_AUDIENCE,
    CAMUNDA_SAAS_TOKEN_URL,
    DEFAULT_CAMUNDA_REGION,
    EngineSettings,
)
from fulfillment.workflow import CANCELED_MESSAGE_NAME, MESSAGE_NAME

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_MESSAGE_TTL_SECONDS: Final = 3600
# gRPC's default reconnect backoff grows to 120 s, during which every call fails at once even though the
# gateway is back; a function instance should notice a restarted gateway within seconds.
CHANNEL_OPTIONS: Final = (("grpc.max_reconnect_backoff_ms", 5_000),)
_UNAVAILABLE_CODES: Final = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.CANCELLED,
    }
)
# pyzeebe's errors for a gateway that cannot answer now (the worker retries on the same ones).
UNAVAILABLE_ERRORS: Final = (
    ZeebeGatewayUnavailableError,
    ZeebeDeadlineExceeded,
    ZeebeBackPressureError,
    ZeebeInternalError,
)


def create_channel(settings: EngineSettings) -> grpc.aio.Channel:
    """The gRPC channel for the configured engine (call it inside the event loop that will use it)."""
    if settings.engine_mode == "saas":
        return create_camunda_cloud_channel(
            client_id=_required(settings.zeebe_client_id),
            client_secret=_required(settings.zeebe_client_secret).get_secret_value(),
            cluster_id=_required(settings.camunda_cluster_id),
            region=settings.camunda_cluster_region or DEFAULT_CAMUNDA_REGION,
            authorization_server=settings.zeebe_authorization_server_url or CAMUNDA_SAAS_TOKEN_URL,
            audience=settings.zeebe_token_audience or CAMUNDA_SAAS_AUDIENCE,
            channel_options=CHANNEL_OPTIONS,
        )
    if settings.engine_mode == "oauth":
        return create_oauth2_client_credentials_channel(
            grpc_address=settings.zeebe_address,
            client_id=_required(settings.zeebe_client_id),
            client_secret=_required(settings.zeebe_client_secret).get_secret_value(),
            authorization_server=_required(settings.zeebe_authorization_server_url),
            scope=None,
            audience=settings.zeebe_token_audience,
            channel_options=CHANNEL_OPTIONS,
        )
    return create_insecure_channel(grpc_address=settings.zeebe_address, channel_options=CHANNEL_OPTIONS)


@dataclass(frozen=True)
class _LoopThread:
    """One asyncio loop running in a daemon thread, with the ZeebeClient that lives on it."""

    pid: int
    loop: asyncio.AbstractEventLoop
    thread: threading.Thread
    channel: grpc.aio.Channel
    client: ZeebeClient

    @classmethod
    def start(cls, channel_factory: Callable[[], grpc.aio.Channel], timeout: float) -> _LoopThread:
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="engine-bridge", daemon=True)
        thread.start()

        async def connect() -> tuple[grpc.aio.Channel, ZeebeClient]:
            channel = channel_factory()
            # -1: never give up. With pyzeebe's default (10) the adapter closes the channel for good after
            # ten gateway errors over the life of the process, and every later call would fail.
            return channel, ZeebeClient(channel, max_connection_retries=-1)

        connecting = asyncio.run_coroutine_threadsafe(connect(), loop)
        try:
            channel, client = connecting.result(timeout)
        except BaseException:
            # The caller tries again on its next request: a failed start must not leave its thread running.
            connecting.cancel()
            _stop_loop(loop, thread, timeout)
            raise
        return cls(os.getpid(), loop, thread, channel, client)

    def stop(self, timeout: float) -> None:
        try:
            asyncio.run_coroutine_threadsafe(self.channel.close(), self.loop).result(timeout)
        except (concurrent.futures.TimeoutError, RuntimeError):
            logger.warning("engine channel did not close in time")
        _stop_loop(self.loop, self.thread, timeout)


def _stop_loop(loop: asyncio.AbstractEventLoop, thread: threading.Thread, timeout: float) -> None:
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout)
    if not thread.is_alive():
        loop.close()


class EngineBridge:
    """Publishes to the engine from any thread; safe to share for the life of the process."""

    def __init__(
        self,
        channel_factory: Callable[[], grpc.aio.Channel],
        *,
        message_ttl_seconds: int = DEFAULT_MESSAGE_TTL_SECONDS,
        request_timeout_seconds: float = 10.0,
    ) -> None:
        self._channel_factory = channel_factory
        self._message_ttl_ms = message_ttl_seconds * 1000
        self._timeout = request_timeout_seconds
        self._lock = threading.Lock()
        self._loop_thread: _LoopThread | None = None

    @classmethod
    def from_settings(
        cls, settings: EngineSettings, *, message_ttl_seconds: int = DEFAULT_MESSAGE_TTL_SECONDS
    ) -> Self:
        return cls(
            functools.partial(create_channel, settings),
            message_ttl_seconds=message_ttl_seconds,
            request_timeout_seconds=settings.zeebe_request_timeout_seconds,
        )

    def publish_order_placed(
        self, order_id: str, variables: Mapping[str, Any], message_id: str | None = None
    ) -> Start:
        """Publishes "order-placed" with correlation key = order id and message id = order id (or
        `message_id`: a restart's own id).

        Returns "duplicate" when Zeebe still buffers a message with that id (ALREADY_EXISTS); raises
        EngineUnavailable when the gateway cannot be reached in time.
        """
        with bind(order_id=order_id):
            published = self.run(
                lambda client: self._publish(
                    client, MESSAGE_NAME, order_id, message_id or order_id, dict(variables)
                )
            )
            outcome: Start = "started" if published else "duplicate"
            logger.info("order-placed message published", extra={"publication": outcome})
            return outcome

    def publish_order_canceled(self, order_id: str) -> Cancellation:
        """Publishes "order-canceled" (correlation key = order id; message id = order id + ".canceled"),
        buffered for the message TTL so that a process waiting between two payment checks still takes it.
        "duplicate" while an earlier one is buffered."""
        with bind(order_id=order_id):
            published = self.run(
                lambda client: self._publish(
                    client, CANCELED_MESSAGE_NAME, order_id, f"{order_id}.canceled", {}
                )
            )
            outcome: Cancellation = "canceled" if published else "duplicate"
            logger.info("order-canceled message published", extra={"publication": outcome})
            return outcome

    def run(self, call: Callable[[ZeebeClient], Coroutine[Any, Any, T]]) -> T:
        """Runs `call(client)` on the bridge's loop, with the client that lives on that loop, and waits for
        it (at most the request timeout)."""
        try:
            loop_thread = self._started()
        except Exception as exc:
            raise EngineUnavailable(
                f"cannot open the engine connection: {type(exc).__name__}: {exc}"
            ) from exc
        future = asyncio.run_coroutine_threadsafe(
            asyncio.wait_for(call(loop_thread.client), self._timeout), loop_thread.loop
        )
        try:
            # The inner wait_for is the deadline; this one only guards against a stalled loop thread.
            return future.result(self._timeout + 5)
        except (TimeoutError, concurrent.futures.TimeoutError) as exc:
            future.cancel()
            raise EngineUnavailable(f"no answer from the engine within {self._timeout:g} s") from exc

    @property
    def client(self) -> ZeebeClient:
        """The ZeebeClient on the bridge's loop (started if needed): only code on that loop may use it."""
        return self._started().client

    def close(self, timeout: float = 5.0) -> None:
        with self._lock:
            loop_thread, self._loop_thread = self._loop_thread, None
        if loop_thread is not None and loop_thread.pid == os.getpid():
            loop_thread.stop(timeout)

    def _started(self) -> _LoopThread:
        with self._lock:
            if self._loop_thread is None or self._loop_thread.pid != os.getpid():
                # A loop thread inherited through fork() does not run in this process: start a new one.
                self._loop_thread = _LoopThread.start(self._channel_factory, self._timeout)
            return self._loop_thread

    async def _publish(
        self, client: ZeebeClient, name: str, order_id: str, message_id: str, variables: dict[str, Any]
    ) -> bool:
        """True when the message was published, False when Zeebe still buffers one with its id."""
        try:
            await client.publish_message(
                name=name,
                correlation_key=order_id,
                variables=variables,
                time_to_live_in_milliseconds=self._message_ttl_ms,
                message_id=message_id,
            )
        except MessageAlreadyExistsError:
            return False
        except UNAVAILABLE_ERRORS as exc:
            raise EngineUnavailable(f"{type(exc).__name__}: {exc}") from exc
        except grpc.aio.AioRpcError as exc:
            raise _from_rpc_error(exc) from exc
        except PyZeebeError as exc:
            raise EngineError(f"{type(exc).__name__}: {exc}") from exc
        return True


def _from_rpc_error(error: grpc.aio.AioRpcError) -> EngineError:
    code = error.code()
    message = f"{code.name if code else 'UNKNOWN'}: {error.details()}"
    return EngineUnavailable(message) if code in _UNAVAILABLE_CODES else EngineError(message)


def _required(value: T | None) -> T:
    # The settings validator guarantees these for the chosen mode; this only narrows the type.
    if value is None:
        raise EngineError("engine credentials are incomplete")
    return value
