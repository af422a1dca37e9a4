"""Helpers shared by the unit tests (imported relatively: `from .helpers import ...`)."""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import types
from collections.abc import Callable, Mapping
from pathlib import Path

import flask

from fulfillment.signatures import sign_headers
from fulfillment.workflow import StatusUpdate, WorkflowStatus

REPO_ROOT = Path(__file__).resolve().parents[2]

ORDER_ID = "order_01JABCDEF0123456789XYZABCD"
MEDUSA_URL = "http://medusa.test"


def new_webhook_secret() -> str:
    return "whsec_" + base64.b64encode(os.urandom(24)).decode()


def status_update(
    status: WorkflowStatus = WorkflowStatus.PAYMENT_VERIFIED, **overrides: object
) -> StatusUpdate:
    fields: dict[str, object] = {
        "order_id": ORDER_ID,
        "process_instance_key": "2251799813685249",
        "status": status,
        "message": f"order is {status}",
    }
    fields.update(overrides)
    return StatusUpdate.model_validate(fields)


def placed_data(order_id: str = ORDER_ID, **overrides: object) -> dict[str, object]:
    """The `data` of an `order.placed` event as the plugin signs it after reading the order."""
    data: dict[str, object] = {
        "id": order_id,
        "display_id": 7,
        "currency_code": "eur",
        "total": 42.5,
        "created_at": "2026-11-28T08:00:00.000Z",
        "workflow_status": None,
    }
    data.update(overrides)
    return data


def load_function(name: str) -> types.ModuleType:
    """Imports functions/NAME/main.py fresh (settings load at import) under a unique module name."""
    path = REPO_ROOT / "functions" / name / "main.py"
    spec = importlib.util.spec_from_file_location(f"_function_{name}_main", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def call_function(
    entry: Callable[[flask.Request], flask.Response],
    body: bytes = b"",
    *,
    method: str = "POST",
    content_type: str | None = "application/json",
    headers: Mapping[str, str] | None = None,
) -> flask.Response:
    """Calls an entry point with a real Flask request, as functions-framework does."""
    app = flask.Flask("unit-test")
    with app.test_request_context(
        "/", method=method, data=body, content_type=content_type, headers=dict(headers or {})
    ):
        return entry(flask.request)


def signed(secret: str, payload: object) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    return body, sign_headers(secret, body)
