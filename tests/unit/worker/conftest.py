"""Fixtures for the worker's unit tests: real collaborators on respx-mocked HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import respx

from worker_job.notification import Outbox, OutboxNotifier
from worker_job.order_reads import OrderReader
from worker_job.services import Services
from worker_job.status_reporter import StatusReporter

from ..helpers import API_KEY, MEDUSA_URL, new_webhook_secret
from .factories import STATUS_URL, StatusLog


@pytest.fixture
def status_secret() -> str:
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


@pytest.fixture
def outbox_dir(tmp_path: Path) -> Path:
    return tmp_path / "outbox"


@pytest.fixture
def services(status_log: StatusLog, status_secret: str, outbox_dir: Path) -> Iterator[Services]:
    reader = OrderReader(MEDUSA_URL, API_KEY, max_attempts=1)
    reporter = StatusReporter(STATUS_URL, status_secret)
    yield Services(medusa=reader, status=reporter, notifier=OutboxNotifier(Outbox(outbox_dir)))
    reader.close()
    reporter.close()
