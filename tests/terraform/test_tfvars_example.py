"""terraform/terraform.tfvars.example: once the shop fills in its ids, Terraform's own variable rules and
guards accept it as it is (run offline on variables.tf + guards.tf, as tests/terraform does), with the
worker image tag `make deploy` passes; left unfilled, it is refused. Every value is explained."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from deploy.config import parse_hcl, variable_defaults

from .paths import TERRAFORM_DIR
from .tfrun import SKIP_REASON, ProviderFreeModule, provider_free_module, terraform_command

EXAMPLE = TERRAFORM_DIR / "terraform.tfvars.example"
# What a shop fills in for each <placeholder>.
SHOP_IDS = {
    "<your-project-id>": "nordic-bikes-prod",
    "<your-medusa-host>": "medusa.nordic-bikes.example",
    "<your-cluster-id>": "9f8e7d6c-5b4a-3210-fedc-ba9876543210",
    "<webhook-client-id>": "nb-webhook",
    "<worker-client-id>": "nb-worker",
    "<incident-checker-client-id>": "nb-incidents",
    "<channel-id>": "42",
}
TAG = "3f2a1b0c9d8e"  # make deploy passes the image tag it built
ASSIGNMENT = re.compile(r"^([a-z_]+)\s*=", re.MULTILINE)


def filled_example() -> str:
    text = EXAMPLE.read_text(encoding="utf-8")
    for placeholder, value in SHOP_IDS.items():
        text = text.replace(placeholder, value)
    return text


@pytest.fixture(scope="module")
def terraform(tmp_path_factory: pytest.TempPathFactory) -> ProviderFreeModule:
    command = terraform_command()
    if command is None:
        pytest.skip(SKIP_REASON)
    files = {
        name: (TERRAFORM_DIR / name).read_text(encoding="utf-8") for name in ("variables.tf", "guards.tf")
    }
    files["filled.tfvars"] = filled_example()
    files["unfilled.tfvars"] = EXAMPLE.read_text(encoding="utf-8")
    return provider_free_module(tmp_path_factory.mktemp("tfvars-example"), command, files)


def plan(terraform: ProviderFreeModule, tfvars: str) -> subprocess.CompletedProcess[str]:
    # As `make deploy` runs Terraform: the tfvars file, and the tag of the image it built.
    return terraform.run(
        "plan", "-input=false", "-no-color", f"-var-file={tfvars}", f"-var=worker_image_tag={TAG}"
    )


def test_the_filled_in_example_passes_every_rule_and_guard(terraform: ProviderFreeModule) -> None:
    result = plan(terraform, "filled.tfvars")
    assert result.returncode == 0, result.stderr


def test_the_example_as_shipped_is_refused(terraform: ProviderFreeModule) -> None:
    result = plan(terraform, "unfilled.tfvars")
    assert result.returncode != 0
    assert "project_id must be a Google Cloud project id" in " ".join(result.stderr.split())


def test_the_example_sets_every_required_variable_but_the_image_tag() -> None:
    required = {
        name
        for block in parse_hcl(TERRAFORM_DIR / "variables.tf")["variable"]
        for name in block
        if name not in variable_defaults()
    }
    assert required - set(parse_hcl(EXAMPLE)) == {"worker_image_tag"}


def test_every_value_is_explained_by_a_comment_above_it() -> None:
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    unexplained = []
    for number, line in enumerate(lines):
        match = ASSIGNMENT.match(line)
        if not match:
            continue
        above = lines[number - 1].strip() if number else ""
        if not (above.startswith("#") or ASSIGNMENT.match(above)):
            unexplained.append(match.group(1))
    assert unexplained == []


def test_the_example_names_no_setting_the_configuration_lacks() -> None:
    declared = {name for block in parse_hcl(TERRAFORM_DIR / "variables.tf")["variable"] for name in block}
    assert set(parse_hcl(Path(EXAMPLE))) <= declared
