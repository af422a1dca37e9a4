"""Cloud Function `status_update`: a worker's signed status report is written into the order's metadata.

Contract (DESIGN.md): 200 {"order_id", "applied": true | false, "workflow_status"} where workflow_status is
the status stored on the order afterwards; 400 invalid body or unknown status; 401 bad signature; 404 order
not found; 405 not POST; 413 over 64 KiB; 415 not JSON; 503 + Retry-After when Medusa cannot be reached.

A stale or backward update and an update of a canceled order (Medusa refuses to change those) are answered
200 with "applied": false and a "reason" ("stale" or "order_canceled"): the report was handled, and a
retry could never change the outcome, so the worker must not retry it.
"""

from __future__ import annotations

import flask
import functions_framework

from fulfillment import http
from fulfillment.logs import bind, setup_logging
from fulfillment.medusa import MedusaAuthError, MedusaClient, MedusaUnavailable, OrderNotFound
from fulfillment.settings import StatusSettings, load_settings
from fulfillment.status_writer import StatusOutcome, record_status
from fulfillment.workflow import StatusUpdate

setup_logging("status-update")

SETTINGS = load_settings(StatusSettings)
MEDUSA = MedusaClient.from_settings(SETTINGS)


@functions_framework.http
@http.json_endpoint
def status_update(request: flask.Request) -> flask.Response:
    body = http.read_json_post(request)
    http.verify_signature(request, body, SETTINGS.status_update_secrets)
    update = http.validate(StatusUpdate, http.parse_json_object(body))
    with bind(order_id=update.order_id, process_instance_key=update.process_instance_key):
        return http.json_response(200, _record(update).as_json())


def _record(update: StatusUpdate) -> StatusOutcome:
    try:
        return record_status(MEDUSA, update)
    except OrderNotFound as exc:
        raise http.HttpProblem(404, "order_not_found", f"Medusa has no order {update.order_id}") from exc
    except MedusaAuthError as exc:
        raise http.unavailable("medusa_auth_failed", "Medusa refused this function's API key") from exc
    except MedusaUnavailable as exc:
        raise http.unavailable("medusa_unavailable", "Medusa cannot be reached, retry later") from exc
