"""What the check reads, from the command line or DEPLOY_CHECK_* variables (pydantic-settings)."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from fulfillment.workflow import BPMN_PATH

REPO_ROOT: Final = Path(__file__).resolve().parent.parent


class DeployCheckSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="DEPLOY_CHECK_",
        env_ignore_empty=True,
        frozen=True,
        cli_prog_name="make deploy-check",
        cli_implicit_flags=True,
        cli_kebab_case=True,
    )

    local: bool = Field(
        default=False, description="check the local stack (`make up`) instead of Google Cloud"
    )
    run_dir: Path = Field(default=REPO_ROOT / ".run", description="the local stack's run directory")
    tfvars: Path = Field(
        default=REPO_ROOT / "terraform" / "terraform.tfvars",
        description="the shop's tfvars, as `make deploy` reads them",
    )
    terraform_outputs: Path | None = Field(
        default=None,
        description="a file with `terraform output -json`; unset: the check runs it in terraform/",
    )
    heartbeat_minutes: float = Field(
        default=10.0, gt=0, le=24 * 60, description="how recent a worker's polling heartbeat must be"
    )
    timeout_seconds: float = Field(default=10.0, gt=0, le=120, description="timeout of each call")
    bpmn: Path = Field(default=BPMN_PATH, description="the process model whose version must be deployed")
