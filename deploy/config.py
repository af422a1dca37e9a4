"""What the deploy command needs to know before Terraform has run: the shop's tfvars over the defaults of
terraform/variables.tf, and the names Terraform gives what the command touches itself (tests/deploy checks
these names against the configuration).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import hcl2
from hcl2 import SerializationOptions

REPO_ROOT: Final = Path(__file__).resolve().parents[1]
TERRAFORM_DIR: Final = REPO_ROOT / "terraform"
PARSE_OPTIONS: Final = SerializationOptions(
    strip_string_quotes=True, with_comments=False, explicit_blocks=False
)
PLACEHOLDER: Final = re.compile(r"<[^<>]*>")

# local.secret_ids in terraform/locals.tf: setting -> secret id without the name prefix.
SECRET_SUFFIXES: Final = {
    "ORDER_WEBHOOK_SECRET": "order-webhook-secret",
    "STATUS_UPDATE_SECRET": "status-update-secret",
    "MEDUSA_WORKER_SECRET": "medusa-worker-secret",
    "MEDUSA_STATUS_SECRET": "medusa-status-secret",
    "WEBHOOK_CAMUNDA_CLIENT_SECRET": "webhook-camunda-client-secret",
    "WORKER_CAMUNDA_CLIENT_SECRET": "worker-camunda-client-secret",
    "INCIDENT_CHECKER_CAMUNDA_CLIENT_SECRET": "incidents-camunda-client-secret",
}
# The variables that say where Camunda is; the model deploy step reads the same names in upper case.
CAMUNDA_TARGET_VARIABLES: Final = (
    "camunda_cluster_id",
    "camunda_cluster_region",
    "camunda_api_url",
    "camunda_api_audience",
    "zeebe_address",
    "zeebe_authorization_server_url",
    "zeebe_token_audience",
)


class ConfigError(Exception):
    """The tfvars file cannot be used as it is; the message says what to change."""


def parse_hcl(path: Path) -> dict[str, Any]:
    try:
        parsed: dict[str, Any] = hcl2.loads(
            path.read_text(encoding="utf-8"), serialization_options=PARSE_OPTIONS
        )
    except OSError as error:
        raise ConfigError(f"cannot read {path}: {error.strerror}") from error
    except Exception as error:  # the parser raises several unrelated types for a syntax error
        raise ConfigError(f"{path} is not valid HCL: {error}") from error
    return parsed


def variable_defaults(variables_tf: Path = TERRAFORM_DIR / "variables.tf") -> dict[str, Any]:
    """Each variable's default as variables.tf declares it (required variables are left out)."""
    defaults: dict[str, Any] = {}
    for block in parse_hcl(variables_tf).get("variable", []):
        for name, body in block.items():
            if "default" in body:
                defaults[name] = body["default"]
    return defaults


def placeholders(values: Mapping[str, Any]) -> list[str]:
    """The variables whose value still holds a <placeholder> of terraform.tfvars.example."""
    return sorted(name for name, value in values.items() if PLACEHOLDER.search(repr(value)))


@dataclass(frozen=True)
class DeployConfig:
    tfvars_path: Path
    values: Mapping[str, Any]  # the tfvars over variables.tf's defaults

    @classmethod
    def load(cls, tfvars_path: Path, variables_tf: Path = TERRAFORM_DIR / "variables.tf") -> DeployConfig:
        if not tfvars_path.is_file():
            raise ConfigError(
                f"{tfvars_path} does not exist: copy terraform/terraform.tfvars.example there and fill it in "
                "(or name yours with TFVARS=PATH)"
            )
        given = parse_hcl(tfvars_path)
        unfilled = placeholders(given)
        if unfilled:
            raise ConfigError(f"{tfvars_path}: replace the <placeholders> in {', '.join(unfilled)}")
        if not given.get("project_id"):
            raise ConfigError(f"{tfvars_path}: project_id is required")
        return cls(tfvars_path.resolve(), {**variable_defaults(variables_tf), **given})

    def _text(self, name: str) -> str:
        value = self.values.get(name)
        return "" if value is None else str(value)

    @property
    def project_id(self) -> str:
        return self._text("project_id")

    @property
    def region(self) -> str:
        return self._text("region")

    @property
    def name_prefix(self) -> str:
        return self._text("name_prefix")

    @property
    def worker_runtime(self) -> str:
        return self._text("worker_runtime")

    # Names as Terraform makes them (storage.tf, iam.tf, locals.tf).
    @property
    def sources_bucket(self) -> str:
        return self._text("source_bucket_name") or f"{self.project_id}-{self.name_prefix}-sources"

    @property
    def worker_repository(self) -> str:
        return f"{self.region}-docker.pkg.dev/{self.project_id}/{self.name_prefix}-worker"

    def worker_image(self, tag: str) -> str:
        return f"{self.worker_repository}/worker:{tag}"

    @property
    def worker_builder_email(self) -> str:
        return f"{self.name_prefix}-worker-build@{self.project_id}.iam.gserviceaccount.com"

    @property
    def build_staging_dir(self) -> str:
        return f"gs://{self.sources_bucket}/worker-builds/source"

    def secret_id(self, setting: str) -> str:
        return f"{self.name_prefix}-{SECRET_SUFFIXES[setting]}"

    def secret_version(self, setting: str) -> str:
        """The version the deployment pins for a secret (secret_versions, default 1)."""
        pinned = self.values.get("secret_versions") or {}
        return str(pinned.get(setting, "1"))

    @property
    def camunda_target(self) -> dict[str, str]:
        """Where Camunda is, as the model deploy step's settings (empty values left out)."""
        return {name.upper(): self._text(name) for name in CAMUNDA_TARGET_VARIABLES if self._text(name)}


@dataclass(frozen=True)
class StateBackend:
    bucket: str
    prefix: str


def gcs_backend(terraform_dir: Path = TERRAFORM_DIR) -> StateBackend | None:
    """The GCS bucket terraform/backend.tf keeps the state in, or None (no backend.tf: local state)."""
    path = terraform_dir / "backend.tf"
    if not path.is_file():
        return None
    for block in parse_hcl(path).get("terraform", []):
        for backend in block.get("backend", []):
            if "gcs" in backend:
                return StateBackend(str(backend["gcs"]["bucket"]), str(backend["gcs"].get("prefix", "")))
    return None


def required_apis(apis_tf: Path = TERRAFORM_DIR / "apis.tf") -> list[str]:
    """The APIs apis.tf enables, plus the two Terraform's Google provider needs to enable any API."""
    listed = re.findall(r'"([a-z0-9.-]+\.googleapis\.com)"', apis_tf.read_text(encoding="utf-8"))
    return sorted({*listed, "cloudresourcemanager.googleapis.com", "serviceusage.googleapis.com"})
