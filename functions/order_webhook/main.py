"""Cloud Function `order_webhook`: Medusa's signed `order.placed` webhook starts the fulfillment process.

Contract (docs/contracts.md): 202 {"order_id", "status": "started" | "duplicate"}; 202 {"status": "ignored"}
for other event types; 400 invalid body; 401 bad signature; 405 not POST; 408 body too slow; 413 over
64 KiB; 415 not JSON; 422 order not found in Medusa; 503 + Retry-After when Medusa or the engine cannot be
used. The request checks and the error answers are fulfillment/http.py's, shared with `status_update`.

Settings load at import (once per instance); a missing or malformed one stops the instance at start with
one line naming it. The engine connection opens on the first request, in the serving process.
"""

from __future__ import annotations

import logging
from typing import Any

import flask
import functions_framework

from fulfillment import http
from fulfillment.engine import EngineBridge
from fulfillment.intake import start_fulfillment
from fulfillment.logs import bind, setup_logging
from fulfillment.medusa import MedusaClient
from fulfillment.orders import ORDER_PLACED_EVENT, OrderPlacedEvent, WebhookEnvelope
from fulfillment.settings import WebhookSettings, load_settings

setup_logging("order-webhook")
logger = logging.getLogger("order_webhook")

SETTINGS = load_settings(WebhookSettings)
MEDUSA = MedusaClient.from_settings(SETTINGS)
ENGINE = EngineBridge.from_settings(SETTINGS, message_ttl_seconds=SETTINGS.order_message_ttl_seconds)


@functions_framework.http
@http.signed_json_endpoint(
    SETTINGS.order_webhook_secrets,
    order_not_found_status=422,
    body_deadline_seconds=SETTINGS.http_body_deadline_seconds,
)
def order_webhook(payload: dict[str, Any]) -> flask.Response:
    if http.validate(WebhookEnvelope, payload).type != ORDER_PLACED_EVENT:
        # `event` and `outcome` feed the log-based metrics (terraform/monitoring.tf).
        logger.info("order webhook ignored", extra={"event": "webhook_handled", "outcome": "ignored"})
        return http.json_response(202, {"status": "ignored"})
    order_id = http.validate(OrderPlacedEvent, payload).order_id
    with bind(order_id=order_id):
        status = start_fulfillment(order_id, MEDUSA, ENGINE)
        logger.info("order webhook accepted", extra={"event": "webhook_handled", "outcome": status})
        return http.json_response(202, {"order_id": order_id, "status": status})
