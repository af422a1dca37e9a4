"""Every resource and data block in terraform/ against the google provider's schema at the pinned release.

tools/terraform/provider_schema.py reads the schema from the prebuilt CDK for Terraform bindings of that
release (a wheel on PyPI, downloaded once into .venv-provider-schema/): the offline stand-in for
`terraform validate`, which needs the provider binary from the Terraform registry.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from .paths import REPO_ROOT, TERRAFORM_DIR


def load_tool() -> ModuleType:
    path = REPO_ROOT / "tools" / "terraform" / "provider_schema.py"
    spec = importlib.util.spec_from_file_location("provider_schema", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


TOOL = load_tool()


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = TOOL.load_schema()
    return loaded


def test_every_block_matches_the_pinned_provider_schema(schema: dict[str, Any]) -> None:
    assert TOOL.check_directory(TERRAFORM_DIR, schema) == []


def test_the_schema_checked_is_the_lowest_release_the_config_admits(schema: dict[str, Any]) -> None:
    versions = (TERRAFORM_DIR / "versions.tf").read_text(encoding="utf-8")
    constraint = re.search(r'version\s*=\s*"~>\s*(\d+)\.(\d+)"', versions)
    assert constraint, "pin the google provider as ~> MAJOR.MINOR"
    assert f"{constraint.group(1)}.{constraint.group(2)}.0" == schema["version"] == TOOL.PROVIDER_VERSION
    # The worker pool alternative needs a release that has the resource.
    assert "google_cloud_run_v2_worker_pool" in schema["resources"]


@pytest.mark.parametrize(
    ("file_name", "old", "new", "expected"),
    [
        (
            "worker.tf",
            "max_retries     = var.worker_max_retries",
            "max_retry       = var.worker_max_retries",
            "worker.tf: google_cloud_run_v2_job.worker.template.template: unsupported argument or block "
            "'max_retry'",
        ),
        (
            "worker.tf",
            "    manual_instance_count = var.worker_pool_instances\n",
            "    manual_instance_count = var.worker_pool_instances\n    instance_count = 2\n",
            "worker.tf: google_cloud_run_v2_worker_pool.worker.scaling: unsupported argument or block "
            "'instance_count'",
        ),
        (
            "incident_checker.tf",
            "        image   = local.worker_image\n",
            "",
            "incident_checker.tf: google_cloud_run_v2_job.incident_checker.template.template.containers: "
            "required argument 'image' is missing",
        ),
        (
            "iam.tf",
            'resource "google_project_iam_audit_config" "secret_manager" {',
            'resource "google_project_iam_audit_configs" "secret_manager" {',
            "iam.tf: google_project_iam_audit_configs.secret_manager: no such resource type in google 6.50.0",
        ),
    ],
    ids=["unknown-argument", "unknown-nested-argument", "missing-required", "unknown-type"],
)
def test_schema_mistakes_are_caught(
    tmp_path: Path, schema: dict[str, Any], file_name: str, old: str, new: str, expected: str
) -> None:
    copy = tmp_path / "terraform"
    shutil.copytree(TERRAFORM_DIR, copy, ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"))
    text = (copy / file_name).read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {file_name}: update this test with the config"
    (copy / file_name).write_text(text.replace(old, new, 1), encoding="utf-8")
    assert TOOL.check_directory(copy, schema) == [expected]
