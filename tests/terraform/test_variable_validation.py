"""The variables' validation rules, run by Terraform itself on a provider-free copy of variables.tf.

Terraform cannot load the Google provider offline, but a module that declares only variables needs no
provider: `terraform init` and `plan` work here and evaluate every validation rule. See tfrun.py for
which Terraform runs.
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
    names = ("variables.tf", "ci.tfvars")
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
        ("zeebe_client_id=", "zeebe_client_id is required"),
        ("zeebe_address=zeebe-gateway", "zeebe_address must be empty or host:port"),
        ("worker_image_tag=latest", "worker_image_tag must be an immutable tag"),
        ('secret_versions={"MEDUSA_WORKER_SECRET"="latest"}', "pinned version numbers"),
        ('secret_versions={"MEDUSA_KEY"="2"}', "secret_versions keys must be among"),
        ('secret_versions={"MEDUSA_API_KEY"="2"}', "secret_versions keys must be among"),
        ("webhook_function={min_instances=3,max_instances=2}", "0 <= min_instances <= max_instances"),
        ('status_function={memory="512MB"}', "status_function.memory must look like"),
        ("status_ingress=PUBLIC", "status_ingress must be ALLOW_ALL"),
        ("worker_task_timeout_seconds=60", "worker_task_timeout_seconds must be between 600 and 86400"),
        ("worker_max_retries=11", "worker_max_retries must be between 0 and 10"),
        ("worker_schedule=hourly", "five-field cron expression"),
        ("kms_key_name=my-key", "kms_key_name must be empty or projects/"),
        ("order_message_ttl_seconds=600", "order_message_ttl_seconds must be between 3600"),
    ],
)
def test_invalid_value_is_refused(terraform: Terraform, assignment: str, message: str) -> None:
    result = plan(terraform, assignment)
    assert result.returncode != 0
    assert message in " ".join(result.stderr.split()), result.stderr


def test_every_variable_is_described_and_validated(terraform_config: TerraformConfig) -> None:
    for name, variable in terraform_config.variables.items():
        assert len(str(variable.get("description", ""))) >= 20, f"variable {name} needs a description"
        assert variable.get("validation"), f"variable {name} needs a validation rule"


def test_readme_documents_every_input_and_output(terraform_config: TerraformConfig) -> None:
    readme = (TERRAFORM_DIR / "README.md").read_text(encoding="utf-8")
    outputs = re.findall(r'^output "(\w+)"', (TERRAFORM_DIR / "outputs.tf").read_text(encoding="utf-8"), re.M)
    assert outputs
    for name in [*terraform_config.variables, *outputs]:
        assert f"| `{name}` |" in readme, f"terraform/README.md does not list {name}"
