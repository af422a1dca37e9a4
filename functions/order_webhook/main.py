"""Cloud Function `order_webhook`: the plugin's signed `order.placed` event starts the fulfillment process;
`order.canceled` stops it. The signed event carries what the process needs: no call to Medusa.

Contract (docs/contracts.md): 202 {"order_id", "status": "started" | "duplicate"} for order.placed;
202 {"order_id", "status": "canceled" | "duplicate" | "not_canceled"} for order.canceled; 202
{"status": "ignored"} for other event types; 400 invalid body; 401 bad signature; 405 not POST; 408
body too slow; 413 over 64 KiB; 415 not JSON; 503 + Retry-After when the engine cannot be used. The
request checks and the error answers are fulfillment/http.py's, shared with `status_update`.

Settings load at import (once per instance); a missing or malformed one stops the instance at start with
one line naming it. The engine connection opens on the first request, in the serving process.
"""

from __future__ import annotations

import gc

# What is loaded so far (functions-framework and Flask, which load this file) lives as long as the
# instance. Frozen, it is out of the garbage collector's sight, so the full collections that the imports
# below set off do not walk it again: about 15 ms of a cold start (benchmarks/README.md).
gc.freeze()

import logging
from datetime import datetime
from typing import Any

import flask
import functions_framework

from fulfillment import http
from fulfillment.engine import EngineBridge
from fulfillment.intake import start_fulfillment, stop_fulfillment
from fulfillment.logs import bind, setup_logging
from fulfillment.orders import (
    ORDER_CANCELED_EVENT,
    ORDER_PLACED_EVENT,
    OrderCanceledData,
    OrderEvent,
    OrderPlacedData,
    WebhookEnvelope,
)
from fulfillment.settings import WebhookSettings, load_settings

setup_logging("order-webhook")
logger = logging.getLogger("order_webhook")

SETTINGS = load_settings(WebhookSettings)
ENGINE = EngineBridge.from_settings(SETTINGS, message_ttl_seconds=SETTINGS.order_message_ttl_seconds)


@functions_framework.http
@http.signed_json_endpoint(
    SETTINGS.order_webhook_secrets, body_deadline_seconds=SETTINGS.http_body_deadline_seconds
)
def order_webhook(payload: dict[str, Any]) -> flask.Response:
    event_type = http.validate(WebhookEnvelope, payload).type
    if event_type == ORDER_PLACED_EVENT:
        placed = http.validate(OrderEvent[OrderPlacedData], payload)
        with bind(order_id=placed.data.id, occurred_at=_iso(placed.occurred_at)):
            return _accepted(placed.data.id, start_fulfillment(placed.data, ENGINE))
    if event_type == ORDER_CANCELED_EVENT:
        canceled = http.validate(OrderEvent[OrderCanceledData], payload)
        with bind(order_id=canceled.data.id, occurred_at=_iso(canceled.occurred_at)):
            return _accepted(canceled.data.id, stop_fulfillment(canceled.data, ENGINE))
    # `event` and `outcome` feed the log-based metrics (terraform/monitoring.tf).
    logger.info("order webhook ignored", extra={"event": "webhook_handled", "outcome": "ignored"})
    return http.json_response(202, {"status": "ignored"})


def _accepted(order_id: str, status: str) -> flask.Response:
    logger.info("order webhook accepted", extra={"event": "webhook_handled", "outcome": status})
    return http.json_response(202, {"order_id": order_id, "status": status})


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
