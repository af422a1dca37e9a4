"""Fixtures for the unit tests of the core package and the functions."""

from __future__ import annotations

import os

import pytest

from .helpers import new_webhook_secret

_OUR_PREFIXES = ("MEDUSA_", "ZEEBE_", "CAMUNDA_", "ORDER_", "STATUS_", "WORKER_")


@pytest.fixture
def webhook_secret() -> str:
    return new_webhook_secret()


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No setting of this project leaks in from the developer's shell."""
    for name in list(os.environ):
        if name.startswith(_OUR_PREFIXES):
            monkeypatch.delenv(name)
    return monkeypatch
