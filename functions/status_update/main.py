"""Cloud Function `status_update`: a worker's signed status report is written into the order's metadata
through the plugin's status route (signed with MEDUSA_STATUS_SECRET), with the customer mail it asks for.

Contract (docs/contracts.md): 200 with the plugin's status answer as it is, {"applied": true | false,
"reason"?, "metadata", "notification"?}: metadata holds the workflow keys stored on the order afterwards,
notification what became of the mail; 400 invalid body or unknown status; 401 bad signature; 404 order
not found; 405 not POST; 408 body too slow; 413 over 64 KiB; 415 not JSON; 503 + Retry-After when Medusa
cannot be used. The request checks and the error answers are fulfillment/http.py's, shared with
`order_webhook`.

A stale or backward update and an update of a canceled order (Medusa refuses to change those) are answered
200 with "applied": false and a "reason" ("stale" or "order_canceled"): the report was handled, and a
retry could never change the outcome, so the worker must not retry it.
"""

from __future__ import annotations

import gc

# What is loaded so far (functions-framework and Flask, which load this file) lives as long as the
# instance. Frozen, it is out of the garbage collector's sight, so the full collections that the imports
# below set off do not walk it again: about 15 ms of a cold start (benchmarks/README.md).
gc.freeze()

import logging
from typing import Any

import flask
import functions_framework

from fulfillment import http
from fulfillment.logs import bind, setup_logging
from fulfillment.medusa import MedusaClient
from fulfillment.settings import StatusSettings, load_settings
from fulfillment.status_writer import record_status
from fulfillment.workflow import StatusUpdate

setup_logging("status-update")
logger = logging.getLogger("status_update")

SETTINGS = load_settings(StatusSettings)
MEDUSA = MedusaClient.from_settings(SETTINGS, SETTINGS.medusa_signing_secret)


@functions_framework.http
@http.signed_json_endpoint(
    SETTINGS.status_update_secrets, body_deadline_seconds=SETTINGS.http_body_deadline_seconds
)
def status_update(payload: dict[str, Any]) -> flask.Response:
    update = http.validate(StatusUpdate, payload)
    with bind(order_id=update.order_id, process_instance_key=update.process_instance_key):
        answer = record_status(MEDUSA, update)
        # One line per report; `event`, `status`, `applied` and `reason` feed the log-based metrics
        # (terraform/monitoring.tf): statuses applied and refused, orders that reached a terminal status.
        logger.info(
            "status update recorded",
            extra={
                "event": "status_recorded",
                "status": update.status.value,
                "applied": answer.applied,
                "reason": answer.reason or "",
                "terminal": update.status.terminal,
            },
        )
        return http.json_response(200, answer.model_dump(mode="json", exclude_unset=True))
