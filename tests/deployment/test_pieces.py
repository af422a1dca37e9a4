"""The deploy command's pieces: reading the tfvars, the names it shares with the Terraform configuration,
the secret-version decisions, the image tag, the model deploy step's settings, the block for Medusa."""

from __future__ import annotations

import functools
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from deploy.config import (
    SECRET_SUFFIXES,
    TERRAFORM_DIR,
    ConfigError,
    DeployConfig,
    gcs_backend,
    parse_hcl,
    required_apis,
)
from deploy.medusa_block import medusa_block
from deploy.prompts import AnswerMissing, Prompter
from deploy.secret_values import (
    Action,
    SecretVersionProblem,
    Version,
    created_version,
    decide,
    new_webhook_secret,
    parse_versions,
)
from deploy.shell import CommandFailed, Shell
from deploy.steps import (
    FOUNDATION_TARGETS,
    Context,
    StepFailed,
    image_tag,
    missing_tools,
    model_deploy_env,
    state_bucket,
)
from fulfillment.signatures import check_secret

from .support import PROJECT, filled_example


def config_from(tmp_path: Path, text: str) -> DeployConfig:
    path = tmp_path / "terraform.tfvars"
    path.write_text(text)
    return DeployConfig.load(path)


@pytest.fixture
def config(tmp_path: Path) -> DeployConfig:
    return config_from(tmp_path, filled_example())


@functools.cache
def resources() -> dict[str, dict[str, Any]]:
    """Every resource of terraform/*.tf: "TYPE.NAME" -> its body."""
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(TERRAFORM_DIR.glob("*.tf")):
        for block in parse_hcl(path).get("resource", []):
            for kind, named in block.items():
                for name, body in named.items():
                    found[f"{kind}.{name}"] = body
    return found


def prompter(**environ: str) -> Prompter:
    return Prompter(Console(file=None, quiet=True), interactive=False, environ=environ)


# --- the tfvars -------------------------------------------------------------------------------------------
def test_the_tfvars_override_the_defaults_of_variables_tf(tmp_path: Path) -> None:
    config = config_from(tmp_path, filled_example() + '\nregion = "us-central1"\nname_prefix = "shop"\n')

    assert (config.project_id, config.region, config.name_prefix) == (PROJECT, "us-central1", "shop")
    assert config.worker_runtime == "job"  # variables.tf's default
    assert config.values["worker_max_jobs"] == 32


def test_placeholders_left_in_the_tfvars_are_named(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"in alert_notification_channels, camunda_api_url, camunda_client_ids"
    ):
        config_from(tmp_path, filled_example({"<your-project-id>": PROJECT}))


def test_a_missing_tfvars_file_says_where_to_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"copy terraform/terraform.tfvars.example"):
        DeployConfig.load(tmp_path / "terraform.tfvars")


# --- names shared with the Terraform configuration -------------------------------------------------------
def test_the_names_the_deploy_uses_are_the_ones_terraform_creates(config: DeployConfig) -> None:
    found = resources()
    named = {
        "worker builder": found["google_service_account.worker_builder"]["account_id"],
        "worker repository": found["google_artifact_registry_repository.worker"]["repository_id"],
    }
    secret_ids = parse_hcl(TERRAFORM_DIR / "locals.tf")["locals"][0]["secret_ids"]
    storage_tf = (TERRAFORM_DIR / "storage.tf").read_text()
    outputs_tf = (TERRAFORM_DIR / "outputs.tf").read_text()

    assert named == {
        "worker builder": "${var.name_prefix}-worker-build",
        "worker repository": "${var.name_prefix}-worker",
    }
    assert config.worker_builder_email == f"fulfillment-worker-build@{PROJECT}.iam.gserviceaccount.com"
    assert config.worker_repository == f"europe-west1-docker.pkg.dev/{PROJECT}/fulfillment-worker"
    assert '"${var.project_id}-${var.name_prefix}-sources"' in storage_tf
    assert config.sources_bucket == f"{PROJECT}-fulfillment-sources"
    assert '"gs://${google_storage_bucket.sources.name}/worker-builds/source"' in outputs_tf
    assert config.build_staging_dir == f"gs://{PROJECT}-fulfillment-sources/worker-builds/source"
    assert secret_ids == {
        setting: f"${{var.name_prefix}}-{suffix}" for setting, suffix in SECRET_SUFFIXES.items()
    }


def test_every_foundation_target_is_a_resource_of_the_configuration() -> None:
    found = resources()
    assert [target for target in FOUNDATION_TARGETS if target not in found] == []


def test_the_worker_builder_may_push_to_the_repository_the_build_pushes_to() -> None:
    grant = resources()["google_artifact_registry_repository_iam_member.worker_builder_pushes_worker_images"]

    assert grant["repository"] == "${google_artifact_registry_repository.worker.name}"
    assert grant["role"] == "roles/artifactregistry.writer"
    assert grant["member"] == "${google_service_account.worker_builder.member}"


def test_the_apis_are_those_of_apis_tf_and_what_the_provider_needs_to_enable_them() -> None:
    apis = required_apis()

    assert {"run.googleapis.com", "secretmanager.googleapis.com", "cloudbuild.googleapis.com"} <= set(apis)
    assert {"serviceusage.googleapis.com", "cloudresourcemanager.googleapis.com"} <= set(apis)


def test_the_state_bucket_is_read_from_backend_tf(tmp_path: Path) -> None:
    assert gcs_backend(tmp_path) is None
    (tmp_path / "backend.tf").write_text((TERRAFORM_DIR / "backend.tf.example").read_text())

    backend = gcs_backend(tmp_path)

    assert backend is not None
    assert (backend.bucket, backend.prefix) == ("my-shop-prod-tfstate", "fulfillment")


@dataclass(frozen=True)
class RecordingShell(Shell):
    """Answers commands by their fourth word from a table and records them: the steps' own logic only."""

    answers: Mapping[str, subprocess.CompletedProcess[str]] = field(default_factory=dict)
    calls: list[list[str]] = field(default_factory=list)

    def capture(self, *argv: str, **_: Any) -> subprocess.CompletedProcess[str]:
        self.calls.append(list(argv))
        answer = self.answers.get(argv[3], subprocess.CompletedProcess(argv, 0, "", ""))
        if answer.returncode != 0:
            raise CommandFailed(argv, answer.returncode, answer.stderr)
        return answer


def recording_shell(answers: Mapping[str, subprocess.CompletedProcess[str]]) -> RecordingShell:
    return RecordingShell(Path("."), answers=answers)


@pytest.mark.parametrize(
    ("describe", "created"),
    [
        (subprocess.CompletedProcess([], 0, "my-shop-prod-tfstate\n", ""), False),
        (
            subprocess.CompletedProcess(
                [], 1, "", "ERROR: (gcloud.storage.buckets.describe) gs://x not found: 404."
            ),
            True,
        ),
    ],
)
def test_the_state_bucket_is_created_only_when_missing(
    config: DeployConfig, tmp_path: Path, describe: subprocess.CompletedProcess[str], created: bool
) -> None:
    (tmp_path / "backend.tf").write_text((TERRAFORM_DIR / "backend.tf.example").read_text())
    shell = recording_shell({"describe": describe})
    ctx = Context(config, shell, prompter(), terraform_dir=tmp_path)

    state_bucket(ctx)

    verbs = [call[3] for call in shell.calls]
    assert verbs == (["describe", "create", "update"] if created else ["describe"])


def test_a_state_bucket_that_cannot_be_read_stops_the_step(config: DeployConfig, tmp_path: Path) -> None:
    (tmp_path / "backend.tf").write_text((TERRAFORM_DIR / "backend.tf.example").read_text())
    denied = subprocess.CompletedProcess([], 1, "", "ERROR: HTTPError 403: caller does not have access")
    ctx = Context(config, recording_shell({"describe": denied}), prompter(), terraform_dir=tmp_path)

    with pytest.raises(CommandFailed, match="403"):
        state_bucket(ctx)


# --- secret versions --------------------------------------------------------------------------------------
def test_a_secret_without_versions_gets_version_1() -> None:
    assert decide("s", "1", []) is Action.ADD


def test_a_secret_whose_pinned_version_is_enabled_is_kept() -> None:
    versions = parse_versions(
        '[{"name": "projects/1/secrets/s/versions/2", "state": "ENABLED"},'
        ' {"name": "projects/1/secrets/s/versions/1", "state": "DISABLED"}]'
    )
    assert decide("s", "2", versions) is Action.KEEP


@pytest.mark.parametrize(
    ("pinned", "versions"),
    [
        ("2", [Version("1", "ENABLED")]),  # raised in secret_versions, the version not added yet
        ("1", [Version("1", "DISABLED")]),  # the pinned version was disabled
        ("2", []),  # a first deployment that pins a version it cannot create
    ],
)
def test_a_pinned_version_that_is_not_there_is_not_guessed(pinned: str, versions: list[Version]) -> None:
    with pytest.raises(SecretVersionProblem, match=rf"pins version {pinned}.*Rotating secrets"):
        decide("s", pinned, versions)


def test_generated_secrets_are_standard_webhooks_secrets_and_differ() -> None:
    first, second = new_webhook_secret(), new_webhook_secret()

    check_secret(first)
    assert first != second


def test_the_created_version_is_read_from_gcloud() -> None:
    assert created_version("projects/123/secrets/s/versions/1\n") == "1"


# --- the image tag ----------------------------------------------------------------------------------------
def git(repo: Path, *args: str) -> str:
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@x",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@x",
    }
    return subprocess.run(
        ["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True
    ).stdout


def test_the_image_tag_is_the_last_commit_of_the_image_sources(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    (tmp_path / "worker_job").mkdir()
    (tmp_path / "worker_job" / "app.py").write_text("v1\n")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "worker")
    source_commit = git(tmp_path, "rev-parse", "HEAD").strip()
    (tmp_path / "README.md").write_text("docs\n")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "docs")

    assert image_tag(tmp_path) == source_commit[:12]  # a docs commit builds no new image

    (tmp_path / "worker_job" / "app.py").write_text("v2\n")
    with pytest.raises(StepFailed, match="uncommitted changes"):
        image_tag(tmp_path)


def test_outside_a_git_checkout_the_tag_must_be_given(tmp_path: Path) -> None:
    with pytest.raises(StepFailed, match="give the tag with TAG="):
        image_tag(tmp_path)


# --- the model deploy step's settings ---------------------------------------------------------------------
def test_the_model_deploys_to_the_saas_cluster_with_the_deploy_client(config: DeployConfig) -> None:
    env = model_deploy_env(
        config, {}, prompter(DEPLOY_ZEEBE_CLIENT_ID="deployer", DEPLOY_ZEEBE_CLIENT_SECRET="deployer-secret")
    )

    assert env == {
        "CAMUNDA_CLUSTER_ID": "0a1b2c3d-4e5f-6789-abcd-ef0123456789",
        "CAMUNDA_CLUSTER_REGION": "bru-2",
        "CAMUNDA_API_URL": "https://bru-2.zeebe.camunda.io/0a1b2c3d-4e5f-6789-abcd-ef0123456789",
        "ZEEBE_CLIENT_ID": "deployer",
        "ZEEBE_CLIENT_SECRET": "deployer-secret",
    }


def test_without_a_terminal_a_missing_deploy_client_is_named(config: DeployConfig) -> None:
    with pytest.raises(AnswerMissing, match="set DEPLOY_ZEEBE_CLIENT_ID"):
        model_deploy_env(config, {}, prompter())


def test_deploy_overrides_replace_and_empty_ones_unset(config: DeployConfig) -> None:
    environ = {
        "DEPLOY_ZEEBE_ADDRESS": "127.0.0.1:26500",
        "DEPLOY_CAMUNDA_CLUSTER_ID": "",
        "DEPLOY_ZEEBE_CLIENT_ID": "",
    }

    env = model_deploy_env(config, environ, prompter())

    assert "CAMUNDA_CLUSTER_ID" not in env
    assert "ZEEBE_CLIENT_ID" not in env
    assert env["ZEEBE_ADDRESS"] == "127.0.0.1:26500"


def test_answers_come_from_the_environment_and_confirmation_needs_yes_without_a_terminal() -> None:
    assert prompter(X="given").secret("X", "?") == "given"
    assert Prompter(Console(quiet=True), interactive=False, assume_yes=True, environ={}).confirm("?")
    with pytest.raises(AnswerMissing, match="YES=1"):
        prompter().confirm("Apply?")


# --- the block for Medusa ---------------------------------------------------------------------------------
def test_the_block_names_each_secret_at_its_pinned_version_and_holds_no_value() -> None:
    block = medusa_block(
        "https://hook.example",
        {"webhookSecret": "p-order-webhook-secret", "workerSecret": "p-worker", "statusSecret": "p-status"},
        {"ORDER_WEBHOOK_SECRET": "3", "MEDUSA_WORKER_SECRET": "1", "MEDUSA_STATUS_SECRET": "2"},
        "shop",
    )

    assert "ORDER_WEBHOOK_URL=https://hook.example" in block
    assert 'ORDER_WEBHOOK_SECRET="$(gcloud secrets versions access 3 --secret=p-order-webhook-secret' in block
    assert "access 2 --secret=p-status --project=shop" in block
    assert "whsec_" not in block
    assert "webhookSecret: process.env.ORDER_WEBHOOK_SECRET," in block


def test_missing_command_line_tools_are_named_with_where_to_get_them() -> None:
    assert missing_tools(lambda tool: "/usr/bin/gcloud" if tool == "gcloud" else None) == [
        "terraform (1.5 or newer, https://developer.hashicorp.com/terraform/install)"
    ]
    assert missing_tools(lambda tool: f"/usr/bin/{tool}") == []
