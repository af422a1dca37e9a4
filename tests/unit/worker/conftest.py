"""Fixtures for the worker's unit tests: real collaborators on respx-mocked HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
import respx

from fulfillment.medusa import MedusaClient
from worker_job.order_reads import OrderReader
from worker_job.services import Services
from worker_job.status_reporter import StatusReporter

from ..helpers import MEDUSA_URL, new_webhook_secret
from .factories import STATUS_URL, PluginRoute, StatusLog, plugin_url


@pytest.fixture
def status_secret() -> str:
    return new_webhook_secret()


@pytest.fixture
def worker_secret() -> str:
    """MEDUSA_WORKER_SECRET: the plugin's view and cancel routes accept only this one."""
    return new_webhook_secret()


@pytest.fixture
def http() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
def status_log(http: respx.MockRouter, status_secret: str) -> StatusLog:
    log = StatusLog(status_secret)
    http.post(STATUS_URL).mock(side_effect=log)
    return log


PluginServer = Callable[..., PluginRoute]


@pytest.fixture
def plugin(http: respx.MockRouter, worker_secret: str) -> PluginServer:
    """Serves one of the plugin's signed routes: `plugin("view", httpx.Response(...), ...)`."""

    def serve(action: str, *answers: httpx.Response) -> PluginRoute:
        route = PluginRoute(worker_secret, action, *answers)
        http.post(plugin_url(action)).mock(side_effect=route)
        return route

    return serve


@pytest.fixture
def services(status_log: StatusLog, status_secret: str, worker_secret: str) -> Iterator[Services]:
    medusa = MedusaClient(MEDUSA_URL, worker_secret, max_attempts=1)
    reporter = StatusReporter(STATUS_URL, status_secret)
    yield Services(medusa=medusa, orders=OrderReader(medusa, settle_seconds=0), status=reporter)
    medusa.close()
    reporter.close()
