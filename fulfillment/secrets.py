"""Secret Manager references in settings.

Any secret setting may hold `projects/P/secrets/S/versions/V` instead of the value. It is read once per
process instance (cached per name), so a function instance pays for the lookup at start, not per request.
"""

from __future__ import annotations

import functools
import re
from typing import Any, Final

from fulfillment.errors import SecretUnavailable

SECRET_REFERENCE_PATTERN: Final = re.compile(r"^projects/[^/\s]+/secrets/[^/\s]+/versions/[^/\s]+$")


def is_secret_reference(value: str) -> bool:
    return SECRET_REFERENCE_PATTERN.fullmatch(value.strip()) is not None


def resolve_secret(value: str) -> str:
    """The secret itself: a Secret Manager reference is fetched, anything else is returned as is."""
    if not is_secret_reference(value):
        return value
    return _access(value.strip())


@functools.cache
def _access(name: str) -> str:
    try:
        response = _client().access_secret_version(request={"name": name})
    except Exception as exc:  # google.api_core raises many types; all mean the same here
        raise SecretUnavailable(f"cannot read {name}: {type(exc).__name__}: {exc}") from exc
    # Secrets are often created with `echo ... | gcloud secrets create --data-file=-`: drop the newline.
    return str(response.payload.data.decode("utf-8")).strip()


def use_client(client: Any | None) -> None:
    """Read secrets through `client` (a SecretManagerServiceClient, e.g. one pointed at another endpoint);
    None goes back to the default client. Forgets the secrets read so far."""
    global _override
    _override = client
    _access.cache_clear()


_override: Any | None = None


def _client() -> Any:
    return _override if _override is not None else _default_client()


@functools.cache
def _default_client() -> Any:
    # Imported lazily: local runs never touch Google Cloud. The REST transport keeps gRPC out of the
    # process that loads settings, because functions-framework's gunicorn forks its workers after the
    # function module (and with it the settings) was imported, and a gRPC channel must not cross a fork.
    from google.cloud import secretmanager

    return secretmanager.SecretManagerServiceClient(transport="rest")
