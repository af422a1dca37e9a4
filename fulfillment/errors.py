"""Every error the shared code raises, in one place, so a caller that only answers errors (the HTTP layer
of both functions, the worker's job handlers) imports them without the client that raises them.

Each family has one base class to catch: EngineError, MedusaError, CamundaApiError.
"""

from __future__ import annotations


# --- The engine (Zeebe's gateway), as the order webhook publishes to it ---------------------------
class EngineError(Exception):
    """The engine refused a call for a reason retrying will not fix (e.g. bad credentials)."""


class EngineUnavailable(EngineError):
    """The gateway could not be reached, timed out or is in back pressure: try again later."""


# --- Medusa, through the plugin's signed routes ---------------------------------------------------
class MedusaError(Exception):
    """Any failure talking to Medusa."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class MedusaUnavailable(MedusaError):
    """Medusa could not be reached, timed out, kept answering 5xx/429 after the retries, or answered
    something the contract does not name (e.g. a Medusa without the plugin's routes)."""


class OrderNotFound(MedusaError):
    """404 for the order."""


class MedusaAuthError(MedusaError):
    """401/403: the plugin does not accept this caller's secret (a setup fault, retried as an outage)."""


class MedusaRejected(MedusaError):
    """400: the plugin refused the request as malformed; the message is the plugin's."""


# --- Camunda's REST API (process definitions, incidents) ------------------------------------------
class CamundaApiError(Exception):
    """Any failure of a call to Camunda's API."""


class CamundaApiUnavailable(CamundaApiError):
    """The API cannot answer now (unreachable, timed out, overloaded or failing)."""


class CamundaApiRefused(CamundaApiError):
    """The API or its authorization server refuses the credentials (401, 403)."""


class CamundaApiRejected(CamundaApiError):
    """The API refused the request; `status`, `title` and `detail` come from its problem detail."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(f"{status} {title}: {detail}")
        self.status = status
        self.title = title
        self.detail = detail


class CamundaNotFound(CamundaApiRejected):
    """404: no such incident, job, or process instance (or no longer in a state the command applies to)."""


class CamundaConflict(CamundaApiRejected):
    """409: the command does not apply in the record's state (e.g. resolving a job incident while the job
    has no retries left)."""


# --- Secret Manager -------------------------------------------------------------------------------
class SecretUnavailable(Exception):
    """A Secret Manager reference could not be read (missing, no permission, API unreachable)."""


# --- Standard Webhooks signatures -----------------------------------------------------------------
class InvalidSignature(Exception):
    """The request is not signed by any accepted secret, or its timestamp is outside the tolerance."""


# --- Rate limits ----------------------------------------------------------------------------------
class NoSlotBeforeDeadline(Exception):
    """The next free call slot comes after the deadline bound with `call_deadline`."""


# --- The process model in bpmn/ -------------------------------------------------------------------
class ModelError(ValueError):
    """A model in bpmn/ cannot be deployed or checked (unreadable, or without a valid version tag)."""
