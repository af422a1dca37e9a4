"""Where a deployment's secrets are, and whether the caller running the check can read each pinned one.

Two stores: Secret Manager (Google Cloud: one secret per setting, each pinned to a version by the tfvars'
`secret_versions`) and devstack's `.run/secrets.json` (the local stack: new values at every start).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, Protocol

# The settings the plugin and the cloud side sign with (docs/contracts.md); the key each has in devstack's
# secrets file (devstack/stack.py, Secrets).
WEBHOOK_SECRET_SETTINGS: Final = {
    "ORDER_WEBHOOK_SECRET": "order_webhook",
    "STATUS_UPDATE_SECRET": "status_update",
    "MEDUSA_WORKER_SECRET": "medusa_worker",
    "MEDUSA_STATUS_SECRET": "medusa_status",
}
# The worker's own Camunda client secret: its model check below asks Camunda's API as the worker does.
WORKER_CAMUNDA_SECRET: Final = "WORKER_CAMUNDA_CLIENT_SECRET"  # noqa: S105 - a setting's name


class SecretNotReadable(Exception):
    """A pinned secret could not be read; `missing` tells a version that does not exist (or is disabled or
    destroyed) from one the caller may not read or could not reach."""

    def __init__(self, message: str, *, missing: bool) -> None:
        super().__init__(message)
        self.missing = missing


class SecretStore(Protocol):
    """The secrets a deployment pins, by setting name (ORDER_WEBHOOK_SECRET, ...)."""

    @property
    def settings(self) -> tuple[str, ...]:
        """Every setting whose pinned secret must be readable."""
        ...

    def where(self, setting: str) -> str:
        """Where the setting's value is, in words an operator can look up."""
        ...

    def read(self, setting: str) -> str:
        """The value; raises SecretNotReadable."""
        ...


class DevstackSecrets:
    """The local stack's secrets file (`.run/secrets.json`), written by devstack at every start."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def settings(self) -> tuple[str, ...]:
        return tuple(WEBHOOK_SECRET_SETTINGS)

    def where(self, setting: str) -> str:
        return f"{self.path} key {WEBHOOK_SECRET_SETTINGS[setting]!r}"

    def read(self, setting: str) -> str:
        try:
            values = json.loads(self.path.read_text())
        except (OSError, ValueError) as error:
            raise SecretNotReadable(f"cannot read {self.path}: {error}", missing=True) from None
        value = values.get(WEBHOOK_SECRET_SETTINGS[setting]) if isinstance(values, dict) else None
        if not isinstance(value, str) or not value:
            raise SecretNotReadable(f"{self.where(setting)} is missing", missing=True)
        return value


class SecretManagerSecrets:
    """Secret Manager, read with the credentials of whoever runs the check (Application Default
    Credentials): the pinned version of each setting's secret, as the functions and the worker read it."""

    def __init__(
        self, client: Any, project_id: str, secret_ids: Mapping[str, str], versions: Mapping[str, str]
    ) -> None:
        # `client` is a SecretManagerServiceClient or anything with its access_secret_version.
        self._client = client
        self._project_id = project_id
        self._secret_ids = dict(secret_ids)
        self._versions = dict(versions)

    @property
    def settings(self) -> tuple[str, ...]:
        return tuple(self._secret_ids)

    def version(self, setting: str) -> str:
        # Terraform pins version 1 for a setting secret_versions does not list (terraform/locals.tf).
        return self._versions.get(setting, "1")

    def where(self, setting: str) -> str:
        return f"Secret Manager secret {self._secret_ids[setting]} version {self.version(setting)}"

    def read(self, setting: str) -> str:
        secret_id, version = self._secret_ids[setting], self.version(setting)
        name = f"projects/{self._project_id}/secrets/{secret_id}/versions/{version}"
        try:
            response = self._client.access_secret_version(request={"name": name})
        except Exception as error:  # google.api_core raises one type per status; sorted below
            raise _not_readable(self.where(setting), error) from None
        # As fulfillment/secrets.py reads it: a value added with `echo ... |` ends in a newline.
        return str(response.payload.data.decode("utf-8")).strip()


def _not_readable(where: str, error: Exception) -> SecretNotReadable:
    from google.api_core import exceptions

    if isinstance(error, exceptions.NotFound):
        return SecretNotReadable(f"{where} does not exist", missing=True)
    if isinstance(error, exceptions.FailedPrecondition):
        # Secret Manager's answer for a version that exists but is disabled or destroyed.
        return SecretNotReadable(f"{where} is disabled or destroyed: {error.message}", missing=True)
    if isinstance(error, exceptions.PermissionDenied):
        return SecretNotReadable(
            f"{where}: permission denied to the caller running the check: {error.message}", missing=False
        )
    return SecretNotReadable(f"{where}: cannot be read: {type(error).__name__}: {error}", missing=False)
