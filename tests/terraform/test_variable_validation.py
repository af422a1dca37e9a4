"""The variables' validation rules and the cross-variable guards, run by Terraform itself on a
provider-free copy of variables.tf and guards.tf.

Terraform cannot load the Google provider offline, but a module that declares only variables and a
resource of Terraform's built-in provider (terraform_data) needs no download: `terraform init` and `plan`
work here and evaluate every validation rule and precondition. See tfrun.py for which Terraform runs.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable

import pytest

from .paths import TERRAFORM_DIR
from .tfrun import SKIP_REASON, provider_free_module, terraform_command
from .wiring import TerraformConfig

Terraform = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def terraform(tmp_path_factory: pytest.TempPathFactory) -> Terraform:
    command = terraform_command()
    if command is None:
        pytest.skip(SKIP_REASON)
    names = ("variables.tf", "guards.tf", "ci.tfvars")
    files = {name: (TERRAFORM_DIR / name).read_text(encoding="utf-8") for name in names}
    return provider_free_module(tmp_path_factory.mktemp("variables-only"), command, files).run


def plan(terraform: Terraform, *assignments: str) -> subprocess.CompletedProcess[str]:
    variables = [f"-var={assignment}" for assignment in assignments]
    return terraform("plan", "-input=false", "-no-color", "-var-file=ci.tfvars", *variables)


def test_ci_values_pass_every_rule(terraform: Terraform) -> None:
    result = plan(terraform)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("assignment", "message"),
    [
        ("project_id=Shop_Prod", "project_id must be a Google Cloud project id"),
        ("region=europe", "region must be a Google Cloud region"),
        ("medusa_backend_url=http://shop.example.com", "medusa_backend_url must be an https:// URL"),
        ('camunda_client_ids={webhook="a",worker="",incident_checker="c"}', "needs a client id for webhook"),
        ('camunda_client_ids={webhook="a",worker="a",incident_checker="c"}', "three different clients"),
        ("camunda_api_url=http://operate.example.com", "camunda_api_url must be an https:// URL"),
        ("vpc_network=My_Network", "vpc_network must be a network name"),
        ("vpc_subnetwork=projects/p/subnetworks/x", "vpc_subnetwork must be a subnetwork name"),
        ("worker_runtime=pool", "worker_runtime must be job or worker_pool"),
        ("worker_pool_instances=0", "worker_pool_instances must be a whole number between 1 and 100"),
        ("worker_start_interval_minutes=25", "worker_start_interval_minutes must be 5, 10, 15, 20, 30 or 60"),
        ("worker_heartbeat_seconds=300", "worker_heartbeat_seconds must be between 10 and 120"),
        ("medusa_calls_per_second=0", "medusa_calls_per_second must be above 0"),
        ("medusa_max_calls_in_flight=0", "medusa_max_calls_in_flight must be a whole number between 1"),
        ("medusa_max_calls_in_flight=2.5", "medusa_max_calls_in_flight must be a whole number between 1"),
        ("runbook_url=docs/runbook.md#top", "runbook_url must name the runbook without an #anchor"),
        ("zeebe_address=zeebe-gateway", "zeebe_address must be empty or host:port"),
        ("worker_image_tag=latest", "worker_image_tag must be an immutable tag"),
        ('secret_versions={"MEDUSA_WORKER_SECRET"="latest"}', "pinned version numbers"),
        ('secret_versions={"MEDUSA_KEY"="2"}', "secret_versions keys must be among"),
        ('secret_versions={"MEDUSA_API_KEY"="2"}', "secret_versions keys must be among"),
        ("webhook_function={min_instances=3,max_instances=2}", "0 <= min_instances <= max_instances"),
        ('status_function={memory="512MB"}', "status_function.memory must look like"),
        # One set of sizing rules serves both functions: each is checked and named.
        ('webhook_function={memory="512MB"}', "webhook_function.memory must look like"),
        ('status_function={cpu="3"}', "status_function.cpu must be 1, 2 or 4"),
        ("webhook_function={concurrency=0}", "webhook_function.concurrency must be a whole number"),
        ("status_function={timeout_seconds=0}", "status_function.timeout_seconds must be between 1 and 3600"),
        ("worker_task_timeout_seconds=60", "worker_task_timeout_seconds must be between 600 and 86400"),
        ("worker_max_retries=11", "worker_max_retries must be between 0 and 10"),
        ("kms_key_name=my-key", "kms_key_name must be empty or projects/"),
        ("order_message_ttl_seconds=600", "order_message_ttl_seconds must be between 3600"),
        ("worker_tuning={settle_seconds=-1}", "worker_tuning.settle_seconds must be between 0 and 60"),
    ],
)
def test_invalid_value_is_refused(terraform: Terraform, assignment: str, message: str) -> None:
    result = plan(terraform, assignment)
    assert result.returncode != 0
    assert message in " ".join(result.stderr.split()), result.stderr


@pytest.mark.parametrize(
    ("assignments", "message"),
    [
        (
            ("alert_notification_channels=[]",),
            "Set alert_notification_channels, or alerts_without_notification",
        ),
        (
            ("zeebe_address=zeebe.shop.example:443",),
            "Set either camunda_cluster_id and camunda_cluster_region",
        ),
        (
            ("camunda_cluster_id=", "camunda_cluster_region=", "zeebe_address=zeebe.shop.example:443"),
            "A self-managed zeebe_address needs zeebe_authorization_server_url",
        ),
        # 60-minute starts with 65 minutes of polling: a missed start would leave 55 minutes without a worker.
        (("worker_start_interval_minutes=60",), "must exceed twice worker_start_interval_minutes"),
        (("worker_shutdown_margin_seconds=60",), "at least the job timeout plus the poll timeout"),
        (
            ("worker_tuning={job_timeout_seconds=600}",),
            "at least the job timeout plus the poll timeout",
        ),
        (("stalled_order_minutes=200",), "stalled_order_lookback_minutes must be at least twice"),
        (("worker_tuning={settle_seconds=13}",), "settle_seconds must be at most a tenth of the job timeout"),
        # The default settle interval (3 s) no longer fits a 20 s job timeout: the worker would refuse it.
        (("worker_tuning={job_timeout_seconds=20}",), "settle_seconds must be at most a tenth"),
    ],
    ids=[
        "no-channel",
        "saas-and-self-managed",
        "no-oauth",
        "gap",
        "margin",
        "job-timeout",
        "lookback",
        "settle",
        "settle-default",
    ],
)
def test_guard_refuses_the_plan(terraform: Terraform, assignments: tuple[str, ...], message: str) -> None:
    result = plan(terraform, *assignments)
    assert result.returncode != 0
    assert message in " ".join(result.stderr.split()), result.stderr


@pytest.mark.parametrize(
    "assignments",
    [
        ("alert_notification_channels=[]", "alerts_without_notification=true"),
        ("worker_start_interval_minutes=60", "worker_task_timeout_seconds=7800"),
        ("worker_runtime=worker_pool", "worker_start_interval_minutes=60"),  # no schedule in a worker pool
        ("worker_tuning={settle_seconds=12}",),  # a tenth of the default job timeout
    ],
    ids=[
        "alerts-in-the-console-on-purpose",
        "hourly-with-long-runs",
        "pool-ignores-the-schedule",
        "settle-a-tenth",
    ],
)
def test_guard_accepts_a_consistent_plan(terraform: Terraform, assignments: tuple[str, ...]) -> None:
    result = plan(terraform, *assignments)
    assert result.returncode == 0, result.stderr


def checked_by_preconditions(config: TerraformConfig) -> set[str]:
    """Variables that a terraform_data resource of variables.tf or guards.tf checks with preconditions
    (rules shared by several variables, such as the two functions' sizing)."""
    checked: set[str] = set()
    for body in config.of_type("terraform_data").values():
        if any(block.get("precondition") for block in body.get("lifecycle", [])):
            checked |= set(re.findall(r"\bvar\.(\w+)", str(body.get("for_each", ""))))
    return checked


def test_every_variable_is_described_and_validated(terraform_config: TerraformConfig) -> None:
    shared_rules = checked_by_preconditions(terraform_config)
    assert {"webhook_function", "status_function"} <= shared_rules
    for name, variable in terraform_config.variables.items():
        assert len(str(variable.get("description", ""))) >= 20, f"variable {name} needs a description"
        assert variable.get("validation") or name in shared_rules, f"variable {name} needs a validation rule"


def test_readme_documents_every_input_and_output(terraform_config: TerraformConfig) -> None:
    readme = (TERRAFORM_DIR / "README.md").read_text(encoding="utf-8")
    outputs = re.findall(r'^output "(\w+)"', (TERRAFORM_DIR / "outputs.tf").read_text(encoding="utf-8"), re.M)
    assert outputs
    for name in [*terraform_config.variables, *outputs]:
        assert f"| `{name}` |" in readme, f"terraform/README.md does not list {name}"
