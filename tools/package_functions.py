"""Package each Cloud Function as the zip Cloud Functions deploys: .build/functions/NAME.zip.

A zip holds the function's folder (`main.py`, `requirements.txt`, any other module next to them) and the
shared core package `fulfillment/`, without tests or bytecode. The zips are reproducible (sorted entries,
fixed timestamps and permissions), so unchanged sources give the same bytes: Terraform names the uploaded
object after the zip's hash and redeploys a function only when its code changed.

    python tools/package_functions.py                 # both functions into .build/functions
    python tools/package_functions.py --out DIR NAME  # one function elsewhere
"""

from __future__ import annotations

import argparse
import sys
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Final

REPO_ROOT: Final = Path(__file__).resolve().parents[1]
FUNCTIONS: Final = ("order_webhook", "status_update")
CORE_PACKAGE: Final = "fulfillment"
DEFAULT_OUT: Final = REPO_ROOT / ".build" / "functions"
# 1980-01-01, the earliest time a zip can hold: the zip's bytes do not depend on file times.
ZIP_EPOCH: Final = (1980, 1, 1, 0, 0, 0)
FILE_MODE: Final = 0o644 << 16
SKIPPED_DIRS: Final = frozenset({"__pycache__", "tests", ".mypy_cache", ".pytest_cache", ".ruff_cache"})
# The function folders carry an __init__.py only so the repository's tests can import them as packages;
# the runtime loads main.py as a top-level module.
SKIPPED_FUNCTION_FILES: Final = frozenset({"__init__.py"})


class PackagingError(Exception):
    """A function folder lacks what Cloud Functions needs."""


def package_files(function: str, repo_root: Path = REPO_ROOT) -> list[tuple[str, Path]]:
    """(name in the zip, file on disk) for one function, sorted by name in the zip."""
    source = repo_root / "functions" / function
    for required in ("main.py", "requirements.txt"):
        if not (source / required).is_file():
            raise PackagingError(f"{source / required} is missing")
    entries = [
        (path.relative_to(source).as_posix(), path)
        for path in _shippable(source)
        if path.relative_to(source).as_posix() not in SKIPPED_FUNCTION_FILES
    ]
    core = repo_root / CORE_PACKAGE
    if not (core / "__init__.py").is_file():
        raise PackagingError(f"{core} is not a package")
    entries += [(path.relative_to(repo_root).as_posix(), path) for path in _shippable(core)]
    return sorted(entries)


def _shippable(directory: Path) -> Iterator[Path]:
    for path in directory.rglob("*"):
        relative = path.relative_to(directory)
        if not path.is_file() or SKIPPED_DIRS.intersection(relative.parts[:-1]):
            continue
        if (
            path.suffix in {".pyc", ".pyo"}
            or path.name.startswith(("test_", "."))
            or path.name == "conftest.py"
        ):
            continue
        yield path


def build_zip(function: str, out_dir: Path, repo_root: Path = REPO_ROOT) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{function}.zip"
    partial = target.with_suffix(".zip.partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, path in package_files(function, repo_root):
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.external_attr = FILE_MODE
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    partial.replace(target)  # never leave a half-written zip where Terraform looks
    return target


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Package the Cloud Functions as deployable zips.")
    parser.add_argument(
        "functions", nargs="*", metavar="NAME", help=f"any of {', '.join(FUNCTIONS)} (default: all)"
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="output directory (default .build/functions)"
    )
    args = parser.parse_args(argv)
    unknown = sorted(set(args.functions) - set(FUNCTIONS))
    if unknown:
        parser.error(f"unknown function(s) {', '.join(unknown)}; choose from {', '.join(FUNCTIONS)}")
    try:
        for function in args.functions or FUNCTIONS:
            target = build_zip(function, args.out)
            print(f"{target} ({target.stat().st_size} bytes)")
    except PackagingError as exc:
        print(f"package_functions: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
