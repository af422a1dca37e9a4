"""Which secret versions to add: only where a secret has none yet, and only as the version the
deployment pins. Signing secrets are generated here; Camunda client secrets only the shop has."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

# Standard Webhooks secrets shared between two parts (docs/contracts.md): generated on the first deploy.
GENERATED: Final = (
    "ORDER_WEBHOOK_SECRET",
    "STATUS_UPDATE_SECRET",
    "MEDUSA_WORKER_SECRET",
    "MEDUSA_STATUS_SECRET",
)
# Each component's Camunda client secret: asked for (or read from the environment variable of that name).
ASKED: Final = (
    "WEBHOOK_CAMUNDA_CLIENT_SECRET",
    "WORKER_CAMUNDA_CLIENT_SECRET",
    "INCIDENT_CHECKER_CAMUNDA_CLIENT_SECRET",
)
SECRET_BYTES: Final = 32  # the specification asks for 24 to 64


class Action(StrEnum):
    KEEP = "keep"
    ADD = "add"


class SecretVersionProblem(Exception):
    """The pinned version is missing while others exist: a rotation half done, not for the deploy to guess."""


@dataclass(frozen=True)
class Version:
    number: str
    state: str  # ENABLED, DISABLED or DESTROYED

    @classmethod
    def from_gcloud(cls, item: dict[str, Any]) -> Version:
        return cls(str(item["name"]).rsplit("/", 1)[-1], str(item.get("state", "")))


def parse_versions(gcloud_json: str) -> list[Version]:
    """`gcloud secrets versions list SECRET --format=json`."""
    return [Version.from_gcloud(item) for item in json.loads(gcloud_json or "[]")]


def decide(secret_id: str, pinned: str, versions: Sequence[Version]) -> Action:
    if any(version.number == pinned and version.state == "ENABLED" for version in versions):
        return Action.KEEP
    if not versions and pinned == "1":
        return Action.ADD
    existing = ", ".join(f"{v.number} ({v.state.lower()})" for v in versions) or "none"
    raise SecretVersionProblem(
        f"{secret_id}: the deployment pins version {pinned} (secret_versions), which is not an enabled "
        f'version (versions: {existing}). Add that version as terraform/README.md "Rotating secrets" says, '
        "or pin an enabled version in secret_versions"
    )


def new_webhook_secret() -> str:
    """A Standard Webhooks secret, as the guide's `new_whsec` makes one."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def created_version(gcloud_output: str) -> str:
    """The version number from `gcloud secrets versions add ... --format=value(name)`."""
    return gcloud_output.strip().rsplit("/", 1)[-1]
