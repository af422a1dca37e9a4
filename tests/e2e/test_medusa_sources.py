"""The Medusa side's own checks: the plugin's tests under Node's test runner, and the TypeScript types of
the plugin and the demo shop's configuration."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from devstack.plugin import BACKEND_DIR, PLUGIN_DIR

pytestmark = pytest.mark.e2e


def _npm(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    if not (cwd / "node_modules").is_dir():
        pytest.fail(f"{cwd}/node_modules is missing: run `make setup`")
    npm = shutil.which("npm")
    assert npm, "npm is needed for the Medusa side"
    return subprocess.run([npm, *args], cwd=cwd, capture_output=True, text=True, timeout=300, check=False)


def _failures(tap: str) -> str:
    """Each failing test's report from Node's TAP output (its `not ok` line to the end of its block), so
    that a failure shows its cause and not only the summary at the end of the run."""
    lines = tap.splitlines()
    reports: list[str] = []
    for start, line in enumerate(lines):
        if line.lstrip().startswith("not ok"):
            end = next((i for i in range(start + 1, len(lines)) if lines[i].strip() == "..."), len(lines) - 1)
            reports.append("\n".join(lines[start : end + 1]))
    return "\n".join(reports)


def test_plugin_node_tests_pass() -> None:
    result = _npm(PLUGIN_DIR, "test")

    assert result.returncode == 0, (_failures(result.stdout) or result.stdout[-4000:]) + result.stderr[-2000:]
    assert "# fail 0" in result.stdout


@pytest.mark.parametrize("project", [PLUGIN_DIR, BACKEND_DIR], ids=["plugin", "backend"])
def test_sources_type_check(project: Path) -> None:
    result = _npm(project, "run", "typecheck")

    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
