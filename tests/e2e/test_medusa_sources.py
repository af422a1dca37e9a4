"""The Medusa side's own checks: the sender's tests under Node's test runner, and the TypeScript types."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from devstack.medusa import MEDUSA_DIR, medusa_cli

pytestmark = pytest.mark.e2e


def _npm(*args: str) -> subprocess.CompletedProcess[str]:
    medusa_cli()  # fails with the setup hint when medusa/node_modules is missing
    npm = shutil.which("npm")
    assert npm, "npm is needed for the Medusa side"
    return subprocess.run(
        [npm, *args], cwd=MEDUSA_DIR, capture_output=True, text=True, timeout=300, check=False
    )


def test_webhook_sender_node_tests_pass() -> None:
    result = _npm("test")

    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "# fail 0" in result.stdout


def test_subscriber_and_config_type_check() -> None:
    result = _npm("run", "typecheck")

    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
