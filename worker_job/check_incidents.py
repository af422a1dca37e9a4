"""`python -m worker_job.check_incidents`: one scheduled look for open incidents in Camunda.

Incidents stop an order silently: a job out of retries is logged by the worker that failed it, but the
engine raises others itself (an expression that cannot be evaluated, a condition no flow meets, a timer
that cannot be computed), and those no worker sees. This checker asks Camunda's REST API for every open
incident, whoever raised it, and logs one line per incident plus a summary, which the alert policy counts
(Terraform runs it every 5 minutes as a Cloud Run job with the worker image):

- `{"event": "incident_open", "incident_key", "process_instance_key", "bpmn_process_id", "error_type",
  "error_message", "created_at", "order_id"}` for each open incident (`order_id` from the instance's
  `order_id` variable, which the message start event sets; null when the instance has none);
- `{"event": "incident_check", "open_incidents": N}` once the check is done;
- `{"event": "incident_check_failed", "error"}` and exit code 1 when the API cannot be reached or refuses
  the credentials (so a checker that cannot look is alerted on too).

Settings: `CAMUNDA_API_URL` and the engine's OAuth client (fulfillment/settings.py, CamundaApiSettings).
"""

from __future__ import annotations

import logging
from typing import Any, Final

from fulfillment.camunda_api import CamundaApi, Incident
from fulfillment.errors import CamundaApiError
from fulfillment.logs import bind, setup_logging
from fulfillment.settings import CamundaApiSettings, load_settings

logger = logging.getLogger("worker_job.check_incidents")

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
ORDER_ID_VARIABLE: Final = "order_id"


def check_incidents(api: CamundaApi) -> int:
    """Logs every open incident and the summary; returns how many are open."""
    count = 0
    for page in api.open_incidents():
        order_ids = _order_ids(api, page)
        for incident in page:
            _log_incident(incident, order_ids.get(incident.process_instance_key))
        count += len(page)
    logger.info("%d open incidents", count, extra={"event": "incident_check", "open_incidents": count})
    return count


def _order_ids(api: CamundaApi, incidents: list[Incident]) -> dict[str, str]:
    """The order each incident's instance belongs to, in one variable search per page of incidents; an
    incident is still reported when this look-up fails."""
    try:
        values = api.root_variable((i.process_instance_key for i in incidents), ORDER_ID_VARIABLE)
    except CamundaApiError as error:
        logger.warning("cannot read the order ids of the incidents' instances: %s", error)
        return {}
    return {key: value for key, value in values.items() if isinstance(value, str)}


def _log_incident(incident: Incident, order_id: str | None) -> None:
    fields: dict[str, Any] = {
        "event": "incident_open",
        "incident_key": incident.incident_key,
        "bpmn_process_id": incident.process_definition_id,
        "error_type": incident.error_type,
        "error_message": incident.error_message,
        "created_at": incident.creation_time.isoformat() if incident.creation_time else None,
        "element_id": incident.element_id,
    }
    with bind(order_id=order_id, process_instance_key=incident.process_instance_key):
        logger.error(
            "open incident %s (%s) at %s of %s: %s",
            incident.incident_key,
            incident.error_type,
            incident.element_id,
            incident.process_definition_id,
            incident.error_message,
            extra=fields,
        )


def main() -> int:
    setup_logging("check_incidents")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    settings = load_settings(CamundaApiSettings)
    try:
        with CamundaApi.from_settings(settings) as api:
            check_incidents(api)
    except CamundaApiError as error:
        reason = f"{type(error).__name__}: {error}"
        logger.error(
            "incident check failed: %s", reason, extra={"event": "incident_check_failed", "error": reason}
        )
        return EXIT_FAILED
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
