"""Where the Terraform config and the function sources live."""

from __future__ import annotations

from pathlib import Path
from typing import Final

REPO_ROOT: Final = Path(__file__).resolve().parents[2]
TERRAFORM_DIR: Final = REPO_ROOT / "terraform"
FUNCTIONS_DIR: Final = REPO_ROOT / "functions"
