"""Checks every resource and data block in terraform/ against the google provider's schema, offline.

    .venv/bin/python tools/terraform/provider_schema.py   # prints the problems; exit 1 when there are any

The provider itself cannot be downloaded here (no Terraform registry), so `terraform validate` cannot run.
Its schema can: the prebuilt CDK for Terraform bindings on PyPI (`cdktf-cdktf-provider-google`) are
generated from one provider release and carry, in their jsii type manifest, every argument and nested
block of every resource with the registry link of that release (`.../hashicorp/google/6.50.0/docs/...`).
This module downloads that wheel once (pip, no dependencies), derives a compact schema from the manifest,
keeps it in .venv-provider-schema/, and reports:

- a resource or data source type the pinned release does not have;
- an argument or block the type (or the nested block) does not have, including computed-only attributes;
- a required argument or block that is missing (a `dynamic` block counts as present).

PROVIDER_VERSION must be the lowest release terraform/versions.tf admits: tests/terraform checks both.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Final

REPO_ROOT: Final = Path(__file__).resolve().parents[2]
TERRAFORM_DIR: Final = REPO_ROOT / "terraform"
CACHE_DIR: Final = REPO_ROOT / ".venv-provider-schema"
PROVIDER_VERSION: Final = "6.50.0"
# The last prebuilt bindings published, generated from hashicorp/google 6.50.0 (their README says so;
# derive_schema checks it).
BINDINGS: Final = "cdktf-cdktf-provider-google==16.12.1"
# Arguments Terraform itself gives every resource or data block.
META_ARGUMENTS: Final = frozenset({"count", "for_each", "depends_on", "provider", "lifecycle", "provisioner"})
_DOC_LINK: Final = re.compile(r"hashicorp/google/([0-9.]+)/docs/(resources|data-sources)/(\w+)#(\w+) ")
_ANCHOR: Final = re.compile(r"/docs/(?:resources|data-sources)/\w+#(\w+) ")

Block = dict[
    str, Any
]  # {"attributes": {name: required}, "blocks": {name: {"required": bool, "schema": Block}}}


# ---------------------------------------------------------------------------------------------------------
# The schema, from the bindings' jsii manifest
# ---------------------------------------------------------------------------------------------------------
def load_schema(python: str = sys.executable) -> dict[str, Any]:
    """The derived schema of PROVIDER_VERSION, downloading the bindings on first use."""
    cached = CACHE_DIR / f"google-{PROVIDER_VERSION}.json"
    if cached.is_file():
        loaded: dict[str, Any] = json.loads(cached.read_text(encoding="utf-8"))
        return loaded
    schema = derive_schema(_read_manifest(_download_wheel(python)))
    cached.write_text(json.dumps(schema, sort_keys=True), encoding="utf-8")
    return schema


def _download_wheel(python: str) -> Path:
    CACHE_DIR.mkdir(exist_ok=True)
    wheels = sorted(CACHE_DIR.glob("cdktf_cdktf_provider_google-*.whl"))
    if not wheels:
        command = [python, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps"]
        subprocess.run([*command, "--dest", str(CACHE_DIR), BINDINGS], check=True)
        wheels = sorted(CACHE_DIR.glob("cdktf_cdktf_provider_google-*.whl"))
    return wheels[-1]


def _read_manifest(wheel: Path) -> dict[str, Any]:
    with zipfile.ZipFile(wheel) as archive:
        [inner] = [name for name in archive.namelist() if name.endswith(".jsii.tgz")]
        with tarfile.open(fileobj=io.BytesIO(archive.read(inner)), mode="r:gz") as tarball:
            member = tarball.extractfile("package/.jsii")
            if member is None:
                raise RuntimeError(f"{wheel.name}: no jsii manifest")
            manifest: dict[str, Any] = json.load(member)
            return manifest


def derive_schema(manifest: Mapping[str, Any]) -> dict[str, Any]:
    types: Mapping[str, Any] = manifest["types"]
    readme = str(manifest.get("readme", {}).get("markdown", ""))
    if f"provider version {PROVIDER_VERSION}" not in readme:
        raise RuntimeError(f"{BINDINGS} is not generated from hashicorp/google {PROVIDER_VERSION}")
    schema: dict[str, Any] = {"version": PROVIDER_VERSION, "resources": {}, "data_sources": {}}
    for fqn, spec in types.items():
        if not (spec.get("datatype") and "cdktf.TerraformMetaArguments" in spec.get("interfaces", [])):
            continue
        kind_and_name = _config_type_name(spec)
        if kind_and_name is None:
            continue
        kind, name = kind_and_name
        schema["data_sources" if kind == "data-sources" else "resources"][f"google_{name}"] = _block(
            types, fqn, set()
        )
    return schema


def _config_type_name(spec: Mapping[str, Any]) -> tuple[str, str] | None:
    for prop in spec.get("properties", []):
        link = _DOC_LINK.search(str(prop.get("docs", {}).get("remarks", "")))
        if link:
            if link.group(1) != PROVIDER_VERSION:
                raise RuntimeError(f"{spec['fqn']} documents release {link.group(1)}")
            return link.group(2), link.group(3)
    return None


def _block(types: Mapping[str, Any], fqn: str, seen: set[str]) -> Block:
    if fqn in seen:
        raise RuntimeError(f"recursive block type {fqn}")
    block: Block = {"attributes": {}, "blocks": {}}
    for prop in types[fqn].get("properties", []):
        anchor = _ANCHOR.search(str(prop.get("docs", {}).get("remarks", "")))
        name = anchor.group(1) if anchor else _snake(prop["name"])
        required = not prop.get("optional", False)
        nested = _struct_of(types, prop["type"])
        if nested is None:
            block["attributes"][name] = required
        else:
            block["blocks"][name] = {"required": required, "schema": _block(types, nested, seen | {fqn})}
    return block


def _struct_of(types: Mapping[str, Any], type_ref: Mapping[str, Any]) -> str | None:
    """The struct behind a property type (a nested block, single or repeated), or None for an attribute."""
    candidates = type_ref.get("union", {}).get("types", [type_ref])
    for candidate in candidates:
        element = candidate.get("collection", {}).get("elementtype", candidate)
        if candidate.get("collection", {}).get("kind") == "map":
            continue
        fqn = element.get("fqn")
        if fqn in types and types[fqn].get("datatype"):
            return str(fqn)
    return None


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


# ---------------------------------------------------------------------------------------------------------
# The check
# ---------------------------------------------------------------------------------------------------------
def check_directory(directory: Path, schema: Mapping[str, Any]) -> list[str]:
    import hcl2  # the project's environment has python-hcl2 (the wiring tests use it too)
    from hcl2 import SerializationOptions

    options = SerializationOptions(strip_string_quotes=True, with_comments=False, explicit_blocks=True)
    problems: list[str] = []
    for path in sorted(directory.glob("*.tf")):
        parsed = hcl2.loads(path.read_text(encoding="utf-8"), serialization_options=options)
        for kind, section in (("resource", "resources"), ("data", "data_sources")):
            for address, body in _blocks_of(parsed.get(kind, [])):
                resource_type = address.split(".")[0]
                if not resource_type.startswith("google_"):
                    continue  # Terraform's built-in types (terraform_data) need no provider
                where = f"{path.name}: {'data.' if kind == 'data' else ''}{address}"
                known = schema[section].get(resource_type)
                if known is None:
                    problems.append(f"{where}: no such {kind} type in google {schema['version']}")
                    continue
                problems += check_block(where, body, known, top_level=True)
    return problems


def _blocks_of(sections: list[Mapping[str, Any]]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for section in sections:
        for resource_type, named in section.items():
            for name, body in named.items():
                yield f"{resource_type}.{name}", body


def check_block(where: str, body: Mapping[str, Any], schema: Block, *, top_level: bool = False) -> list[str]:
    problems: list[str] = []
    present: set[str] = set()
    for key, value in body.items():
        if key == "__is_block__" or (top_level and key in META_ARGUMENTS):
            continue
        if key == "dynamic":
            for dynamic in value:
                for name, spec in dynamic.items():
                    present.add(name)
                    problems += _check_nested(f"{where}.{name}", name, spec.get("content", []), schema)
            continue
        present.add(key)
        if key in schema["attributes"]:
            if _is_block_list(value):
                problems.append(f"{where}: {key} is an argument, written as a block")
        elif key in schema["blocks"]:
            problems += _check_nested(f"{where}.{key}", key, value, schema)
        else:
            problems.append(f"{where}: unsupported argument or block {key!r}")
    for name, required in schema["attributes"].items():
        if required and name not in present:
            problems.append(f"{where}: required argument {name!r} is missing")
    for name, nested in schema["blocks"].items():
        if nested["required"] and name not in present:
            problems.append(f"{where}: required block {name!r} is missing")
    return problems


def _check_nested(where: str, name: str, value: Any, schema: Block) -> list[str]:
    nested = schema["blocks"][name]["schema"] if name in schema["blocks"] else None
    if nested is None:
        return [f"{where}: unsupported block {name!r}"]
    if isinstance(value, Mapping):  # an object written as an attribute (`name = { ... }`)
        return check_block(where, value, nested)
    problems: list[str] = []
    for item in value if isinstance(value, list) else []:
        if isinstance(item, Mapping):
            problems += check_block(where, item, nested)
    return problems


def _is_block_list(value: Any) -> bool:
    return isinstance(value, list) and any(
        isinstance(item, Mapping) and item.get("__is_block__") for item in value
    )


def main() -> int:
    problems = check_directory(TERRAFORM_DIR, load_schema())
    for problem in problems:
        print(problem)
    print(f"provider schema (google {PROVIDER_VERSION}): {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
