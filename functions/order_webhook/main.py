"""Cloud Function `order_webhook`: Medusa's signed `order.placed` webhook starts the fulfillment process.

Contract (DESIGN.md): 202 {"order_id", "status": "started" | "duplicate"}; 202 {"status": "ignored"} for
other event types; 400 invalid body; 401 bad signature; 405 not POST; 413 over 64 KiB; 415 not JSON;
422 order not found in Medusa; 503 + Retry-After when Medusa or the engine cannot be reached.

Settings load at import (once per instance); a missing or malformed one stops the instance at start with
one line naming it. The engine connection opens on the first request, in the serving process.
"""

from __future__ import annotations

import logging

import flask
import functions_framework

from fulfillment import http
from fulfillment.engine import EngineBridge, EngineError, EngineUnavailable
from fulfillment.intake import Publication, start_fulfillment
from fulfillment.logs import bind, setup_logging
from fulfillment.medusa import MedusaAuthError, MedusaClient, MedusaUnavailable, OrderNotFound
from fulfillment.orders import ORDER_PLACED_EVENT, OrderPlacedEvent, WebhookEnvelope
from fulfillment.settings import WebhookSettings, load_settings

setup_logging("order-webhook")
logger = logging.getLogger("order_webhook")

SETTINGS = load_settings(WebhookSettings)
MEDUSA = MedusaClient.from_settings(SETTINGS)
ENGINE = EngineBridge.from_settings(SETTINGS, message_ttl_seconds=SETTINGS.order_message_ttl_seconds)


@functions_framework.http
@http.json_endpoint
def order_webhook(request: flask.Request) -> flask.Response:
    body = http.read_json_post(request)
    http.verify_signature(request, body, SETTINGS.order_webhook_secrets)
    payload = http.parse_json_object(body)
    if http.validate(WebhookEnvelope, payload).type != ORDER_PLACED_EVENT:
        return http.json_response(202, {"status": "ignored"})
    order_id = http.validate(OrderPlacedEvent, payload).order_id
    with bind(order_id=order_id):
        status = _start(order_id)
        logger.info("order webhook accepted", extra={"outcome": status})
        return http.json_response(202, {"order_id": order_id, "status": status})


def _start(order_id: str) -> Publication:
    try:
        return start_fulfillment(order_id, MEDUSA, ENGINE)
    except OrderNotFound as exc:
        raise http.HttpProblem(422, "order_not_found", f"Medusa has no order {order_id}") from exc
    except MedusaAuthError as exc:
        # Our API key is wrong or revoked: an operator must fix it, and the sender's retry then succeeds.
        logger.error("Medusa refused the API key", extra={"error": str(exc)})
        raise http.unavailable("medusa_auth_failed", "Medusa refused this function's API key") from exc
    except MedusaUnavailable as exc:
        raise http.unavailable("medusa_unavailable", "Medusa cannot be reached, retry later") from exc
    except EngineUnavailable as exc:
        raise http.unavailable(
            "engine_unavailable", "the process engine cannot be reached, retry later"
        ) from exc
    except EngineError as exc:
        logger.error("the engine refused the message", extra={"error": str(exc)})
        raise http.unavailable("engine_error", "the process engine refused the message, retry later") from exc
