"""The deploy's steps, in the order they run. Each returns one line saying what it did (or that nothing
needed doing), raises StepFailed with what went wrong, and carries the sentence telling the operator what
to do next.

Why this order:
- Terraform owns every resource, but some must exist before `terraform apply` can create the rest: the
  APIs Terraform's provider calls, the state bucket `terraform init` needs (gcloud: Terraform cannot create
  its own backend), then, by a targeted apply, the secret containers (their values must exist before the
  functions and the job that pin them), the worker's image repository and the build account with its
  grants (the image must exist before the job that runs it).
- The process model is deployed before the full apply. Zeebe only starts an instance for a message whose
  process is already deployed, so the model must be in Camunda before the webhook can take an order. The
  full apply is what creates the webhook and opens it to the internet (`allUsers` may invoke it): on a
  first deployment nobody knows its URL or secret until the last step prints them, and on an update the
  plugin already sends to it, so the new model is in place before the new revision serves.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from deploy.config import REPO_ROOT, TERRAFORM_DIR, DeployConfig, gcs_backend, required_apis
from deploy.medusa_block import medusa_block
from deploy.prompts import Prompter
from deploy.secret_values import (
    ASKED,
    GENERATED,
    Action,
    SecretVersionProblem,
    created_version,
    decide,
    new_webhook_secret,
    parse_versions,
)
from deploy.shell import CommandFailed, Shell

PLAN_DIR: Final = REPO_ROOT / ".build" / "deploy"
IMAGE_INPUTS: Final = ("fulfillment", "worker_job", "bpmn")  # what worker_job/Dockerfile copies
# What must exist before the worker image can be pushed and before the functions and the job can pin their
# secrets: the APIs, the worker's repository, the secret containers, and the worker builder with its grants.
FOUNDATION_TARGETS: Final = (
    "google_project_service.required",
    "google_artifact_registry_repository.worker",
    "google_secret_manager_secret.setting",
    "google_service_account.worker_builder",
    "google_project_iam_member.worker_builder_logs",
    "google_artifact_registry_repository_iam_member.worker_builder_pushes_worker_images",
    "google_storage_bucket_iam_member.worker_builder_reads_sources",
)
REQUIRED_TOOLS: Final = {
    "gcloud": "https://cloud.google.com/sdk/docs/install",
    "terraform": "1.5 or newer, https://developer.hashicorp.com/terraform/install",
}
TERRAFORM_NO_CHANGES: Final = 0
TERRAFORM_CHANGES: Final = 2  # plan -detailed-exitcode
BUCKET_NOT_FOUND: Final = "not found: 404"  # gcloud storage buckets describe, on a missing bucket
IMAGE_NOT_FOUND: Final = "Image not found"  # gcloud artifacts docker images describe, on a missing tag
MODEL_DEPLOY_TIMEOUT_SECONDS: Final = 600
# The model deploy step's settings the deploy overrides with DEPLOY_<NAME> (an empty value unsets one).
MODEL_DEPLOY_SETTINGS: Final = (
    "ZEEBE_ADDRESS",
    "ZEEBE_CLIENT_ID",
    "ZEEBE_CLIENT_SECRET",
    "ZEEBE_AUTHORIZATION_SERVER_URL",
    "ZEEBE_TOKEN_AUDIENCE",
    "CAMUNDA_CLUSTER_ID",
    "CAMUNDA_CLUSTER_REGION",
    "CAMUNDA_API_URL",
    "CAMUNDA_API_AUDIENCE",
)
MODEL_DEPLOY_NEXT: Final = {
    2: "Camunda holds a newer model (deploy from the release that carries it), or a DEPLOY_ setting is wrong",
    3: "Camunda was unreachable: check the cluster is running and reachable from here, then run again",
}


class StepFailed(Exception):
    """A step could not do its work; the message says why."""


@dataclass
class Context:
    config: DeployConfig
    shell: Shell
    prompter: Prompter
    tag: str = ""
    terraform_dir: Path = TERRAFORM_DIR
    model_deploy_env: dict[str, str] = field(default_factory=dict)
    applied_changes: bool = False
    medusa_block: str = ""

    @property
    def project_flag(self) -> str:
        return f"--project={self.config.project_id}"

    def gcloud(self, *args: str, stdin: str | None = None, accept: Sequence[int] = (0,)) -> str:
        return self.shell.capture("gcloud", *args, self.project_flag, stdin=stdin, accept=accept).stdout

    @property
    def terraform_vars(self) -> list[str]:
        return [f"-var-file={self.config.tfvars_path}", f"-var=worker_image_tag={self.tag}"]


@dataclass(frozen=True)
class Step:
    title: str
    run: Callable[[Context], str]
    next_action: str


# --- 1. settings ------------------------------------------------------------------------------------------
def image_tag(repo: Path = REPO_ROOT, shell: Shell | None = None) -> str:
    """The last commit that changed the image's inputs: the same tag (and no rebuild) until they change.
    Uncommitted changes to them would build an image the tag does not describe, so they stop the deploy."""
    shell = shell or Shell(repo, os.environ)
    try:
        dirty = shell.capture("git", "status", "--porcelain", "--", *IMAGE_INPUTS).stdout.strip()
    except (CommandFailed, FileNotFoundError):  # not a checkout, or no git at all
        raise StepFailed("not a git checkout, so no commit names the image: give the tag with TAG=") from None
    if dirty:
        raise StepFailed(
            f"uncommitted changes in {', '.join(IMAGE_INPUTS)}: commit them (the image tag names the "
            "commit), or give the tag yourself with TAG="
        )
    commit = shell.capture("git", "log", "-1", "--format=%H", "--", *IMAGE_INPUTS).stdout.strip()
    if not commit:
        raise StepFailed("no commit touches the image's sources: give the tag with TAG=")
    return commit[:12]


def model_deploy_env(config: DeployConfig, environ: Mapping[str, str], prompter: Prompter) -> dict[str, str]:
    """The model deploy step's settings: where Camunda is (tfvars), the deploy client (asked for, or
    DEPLOY_ZEEBE_CLIENT_ID / DEPLOY_ZEEBE_CLIENT_SECRET), and any DEPLOY_<NAME> override."""
    settings = dict(config.camunda_target)
    for name in MODEL_DEPLOY_SETTINGS:
        if f"DEPLOY_{name}" in environ:
            settings[name] = environ[f"DEPLOY_{name}"]
    needs_client = bool(settings.get("CAMUNDA_CLUSTER_ID") or settings.get("ZEEBE_AUTHORIZATION_SERVER_URL"))
    if needs_client and not settings.get("ZEEBE_CLIENT_ID"):
        settings["ZEEBE_CLIENT_ID"] = prompter.value(
            "DEPLOY_ZEEBE_CLIENT_ID", "Camunda client id that deploys the process model"
        )
    if settings.get("ZEEBE_CLIENT_ID") and not settings.get("ZEEBE_CLIENT_SECRET"):
        settings["ZEEBE_CLIENT_SECRET"] = prompter.secret(
            "DEPLOY_ZEEBE_CLIENT_SECRET", "Secret of that client"
        )
    return {name: value for name, value in settings.items() if value}


def missing_tools(which: Callable[[str], str | None] = shutil.which) -> list[str]:
    return [f"{tool} ({where})" for tool, where in REQUIRED_TOOLS.items() if which(tool) is None]


def read_settings(ctx: Context) -> str:
    missing = missing_tools()
    if missing:
        raise StepFailed(f"not installed: {'; '.join(missing)}")
    ctx.tag = ctx.tag or image_tag()
    ctx.model_deploy_env = model_deploy_env(ctx.config, os.environ, ctx.prompter)
    target = ctx.model_deploy_env.get("CAMUNDA_CLUSTER_ID") or ctx.model_deploy_env.get("ZEEBE_ADDRESS", "?")
    return f"project {ctx.config.project_id}, worker image tag {ctx.tag}, model deploys to {target}"


# --- 2-5. what Terraform needs before it runs -------------------------------------------------------------
def enable_apis(ctx: Context) -> str:
    apis = required_apis()
    ctx.gcloud("services", "enable", *apis)  # a no-op for APIs already enabled
    return f"{len(apis)} APIs enabled"


def state_bucket(ctx: Context) -> str:
    backend = gcs_backend(ctx.terraform_dir)
    if backend is None:
        return "no terraform/backend.tf: the state stays in terraform/ on this machine"
    bucket = f"gs://{backend.bucket}"
    try:
        ctx.gcloud("storage", "buckets", "describe", bucket, "--format=value(name)")
        return f"{bucket} exists"
    except CommandFailed as failed:
        if BUCKET_NOT_FOUND not in failed.stderr:
            raise  # 403: the name is taken by someone else, or this account may not read it
    ctx.gcloud(
        "storage", "buckets", "create", bucket, f"--location={ctx.config.region}",
        "--uniform-bucket-level-access", "--public-access-prevention",
    )  # fmt: skip
    ctx.gcloud("storage", "buckets", "update", bucket, "--versioning")
    return f"{bucket} created (versioned, private)"


def terraform_init(ctx: Context) -> str:
    ctx.shell.stream("terraform", "init", "-input=false", cwd=ctx.terraform_dir)
    return "providers and state ready"


def package_functions(ctx: Context) -> str:
    ctx.shell.capture(sys.executable, str(REPO_ROOT / "tools" / "package_functions.py"))
    return "order_webhook.zip and status_update.zip in .build/functions"


# --- 6. foundations (plan, confirm, apply) ---------------------------------------------------------------
def plan_and_apply(ctx: Context, name: str, targets: Sequence[str] = ()) -> bool:
    """Plans; applies the saved plan when it changes something and the operator agrees. True if applied."""
    PLAN_DIR.mkdir(parents=True, exist_ok=True)
    plan_file = PLAN_DIR / f"{name}.tfplan"
    target_args = [f"-target={target}" for target in targets]
    code = ctx.shell.stream(
        "terraform", "plan", "-input=false", "-detailed-exitcode", f"-out={plan_file}",
        *ctx.terraform_vars, *target_args,
        cwd=ctx.terraform_dir, accept=(TERRAFORM_NO_CHANGES, TERRAFORM_CHANGES),
    )  # fmt: skip
    if code == TERRAFORM_NO_CHANGES:
        return False
    if not ctx.prompter.confirm(f"Apply the {name} plan above?"):
        raise StepFailed("the plan was not applied")
    ctx.shell.stream("terraform", "apply", "-input=false", str(plan_file), cwd=ctx.terraform_dir)
    return True


def foundations(ctx: Context) -> str:
    applied = plan_and_apply(ctx, "foundations", FOUNDATION_TARGETS)
    return "created or updated" if applied else "no changes"


# --- 7. secret values -------------------------------------------------------------------------------------
def secret_value(ctx: Context, setting: str) -> str:
    if setting in GENERATED:
        return new_webhook_secret()
    return ctx.prompter.secret(
        setting, f"Camunda client secret of {setting.removesuffix('_CAMUNDA_CLIENT_SECRET').lower()}"
    )


def secret_versions(ctx: Context) -> str:
    added = []
    for setting in (*GENERATED, *ASKED):
        secret_id = ctx.config.secret_id(setting)
        pinned = ctx.config.secret_version(setting)
        versions = parse_versions(ctx.gcloud("secrets", "versions", "list", secret_id, "--format=json"))
        try:
            action = decide(secret_id, pinned, versions)
        except SecretVersionProblem as problem:
            raise StepFailed(str(problem)) from None
        if action is Action.KEEP:
            continue
        value = secret_value(ctx, setting)
        output = ctx.gcloud(
            "secrets", "versions", "add", secret_id, "--data-file=-", "--format=value(name)", stdin=value
        )
        if created_version(output) != pinned:
            raise StepFailed(f"{secret_id}: added version {created_version(output)}, expected {pinned}")
        added.append(secret_id)
    return f"added version 1 of {', '.join(added)}" if added else "every pinned version exists; nothing added"


# --- 8. worker image --------------------------------------------------------------------------------------
def image_exists(ctx: Context, image: str) -> bool:
    try:
        ctx.gcloud("artifacts", "docker", "images", "describe", image, "--format=value(image_summary.digest)")
    except CommandFailed as failed:
        if IMAGE_NOT_FOUND in failed.stderr:
            return False
        raise
    return True


def worker_image(ctx: Context) -> str:
    image = ctx.config.worker_image(ctx.tag)
    if image_exists(ctx, image):
        return f"{image} exists (tags are immutable): not rebuilt"
    ctx.shell.stream(
        "gcloud", "builds", "submit", "--config=terraform/cloudbuild-worker.yaml",
        f"--service-account=projects/{ctx.config.project_id}/serviceAccounts/{ctx.config.worker_builder_email}",
        f"--gcs-source-staging-dir={ctx.config.build_staging_dir}",
        f"--substitutions=_IMAGE={image}", ctx.project_flag, ".",
    )  # fmt: skip
    return f"built and pushed {image}"


# --- 9. process model -------------------------------------------------------------------------------------
def model_messages(stdout: str) -> list[str]:
    """The deploy step's own sentences, from its JSON log lines."""
    messages = []
    for line in stdout.splitlines():
        try:
            entry: Any = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("message"):
            messages.append(str(entry["message"]))
    return messages


def process_model(ctx: Context) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZEEBE_", "CAMUNDA_", "DEPLOY_"))}
    result = subprocess.run(
        [sys.executable, "-m", "worker_job.deploy_model"],
        cwd=REPO_ROOT,
        env={**env, **ctx.model_deploy_env},
        capture_output=True,
        text=True,
        check=False,
        timeout=MODEL_DEPLOY_TIMEOUT_SECONDS,
    )
    said = "; ".join(model_messages(result.stdout)) or result.stderr.strip()
    if result.returncode != 0:
        hint = MODEL_DEPLOY_NEXT.get(result.returncode, "")
        raise StepFailed(f"{said}" + (f" ({hint})" if hint else ""))
    return said or "deployed"


# --- 10-12. everything, a first worker, the block for Medusa ----------------------------------------------
def apply_everything(ctx: Context) -> str:
    ctx.applied_changes = plan_and_apply(ctx, "deployment")
    return "applied" if ctx.applied_changes else "no changes"


def start_worker(ctx: Context) -> str:
    if ctx.config.worker_runtime != "job":
        return "worker pool: Cloud Run keeps its instances running"
    if not ctx.applied_changes:
        return "nothing changed: the scheduled executions keep running"
    job = f"{ctx.config.name_prefix}-worker"
    ctx.gcloud("run", "jobs", "execute", job, f"--region={ctx.config.region}", "--async")
    return f"started an execution of {job} (the scheduler starts the next ones)"


def terraform_outputs(ctx: Context) -> dict[str, Any]:
    output = ctx.shell.capture("terraform", "output", "-json", cwd=ctx.terraform_dir).stdout
    return {name: item["value"] for name, item in json.loads(output).items()}


def medusa_configuration(ctx: Context) -> str:
    outputs = terraform_outputs(ctx)
    versions = {setting: ctx.config.secret_version(setting) for setting in GENERATED}
    ctx.medusa_block = medusa_block(
        outputs["order_webhook_url"], outputs["medusa_plugin_secrets"], versions, ctx.config.project_id
    )
    return "the block for the Medusa server follows"


STEPS: Final = (
    Step(
        "Settings",
        read_settings,
        "fix the tfvars file or the environment as the message says, then run again",
    ),
    Step(
        "APIs",
        enable_apis,
        "check that `gcloud auth list` shows the account you deploy with, and that it may enable services",
    ),
    Step(
        "Terraform state bucket",
        state_bucket,
        "check terraform/backend.tf's bucket name (buckets are global)",
    ),
    Step(
        "Terraform init",
        terraform_init,
        "read Terraform's message above; it needs the Terraform registry, the state bucket, and credentials "
        "(`gcloud auth application-default login`)",
    ),
    Step("Function packages", package_functions, "run `python tools/package_functions.py` to see the error"),
    Step(
        "Foundations (APIs, image repository, secrets, worker builder)",
        foundations,
        "read Terraform's message above, fix the tfvars file, run again",
    ),
    Step("Secret values", secret_versions, "see the message; a run again adds only what is still missing"),
    Step(
        "Worker image",
        worker_image,
        "read the build log above; a permission error right after the first foundations apply is IAM "
        "propagation: wait a minute and run again",
    ),
    Step(
        "Process model (before the webhook can take an order)",
        process_model,
        "nothing was applied after the model step; fix the cause and run again",
    ),
    Step(
        "Deployment (functions, worker, scheduler, alerts)",
        apply_everything,
        "read Terraform's message above and run again; a permission error in a function build on the first "
        "run is IAM propagation: wait a minute and run again",
    ),
    Step("First worker", start_worker, "start one by hand: gcloud run jobs execute NAME --region REGION"),
    Step(
        "Medusa configuration",
        medusa_configuration,
        "run `terraform -chdir=terraform output` to see the outputs",
    ),
)
