"""Print the Inputs and Outputs tables of terraform/README.md from variables.tf and outputs.tf.

    .venv/bin/python tools/terraform/readme_tables.py   # paste the result over the two tables

tests/terraform checks that the README lists every variable and output.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import hcl2
from hcl2 import SerializationOptions

TERRAFORM_DIR = Path(__file__).resolve().parents[2] / "terraform"
OPTIONS = SerializationOptions(strip_string_quotes=True, with_comments=False, explicit_blocks=False)


def blocks(file_name: str, kind: str) -> dict[str, dict[str, Any]]:
    text = (TERRAFORM_DIR / file_name).read_text(encoding="utf-8")
    parsed = hcl2.loads(text, serialization_options=OPTIONS)
    return {name: body for block in parsed.get(kind, []) for name, body in block.items()}


def type_name(variable: dict[str, Any]) -> str:
    text = str(variable.get("type", "")).removeprefix("${").removesuffix("}")
    return "object" if text.startswith("object(") else text


def default_cell(variable: dict[str, Any]) -> str:
    if "default" not in variable:
        return "**required**"
    return f"`{json.dumps(variable['default'])}`"


def cell(text: str) -> str:
    return text.replace("|", "\\|")


def main() -> None:
    print("| Name | Type | Default | Description |")
    print("|---|---|---|---|")
    for name, variable in blocks("variables.tf", "variable").items():
        description = cell(variable.get("description", ""))
        row = [f"`{name}`", type_name(variable), default_cell(variable), description]
        print("| " + " | ".join(row) + " |")
    print()
    print("| Output | Description |")
    print("|---|---|")
    for name, output in blocks("outputs.tf", "output").items():
        print(f"| `{name}` | {cell(output.get('description', ''))} |")


if __name__ == "__main__":
    main()
