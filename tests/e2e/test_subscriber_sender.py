"""The subscriber's sending logic (medusa/src/lib/webhook-sender.ts) under Node's test runner."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from devstack.medusa import MEDUSA_DIR, medusa_cli

pytestmark = pytest.mark.e2e


def test_webhook_sender_node_tests_pass() -> None:
    medusa_cli()  # fails with the setup hint when medusa/node_modules is missing
    npm = shutil.which("npm")
    assert npm, "npm is needed for the Medusa side"

    result = subprocess.run(
        [npm, "test"], cwd=MEDUSA_DIR, capture_output=True, text=True, timeout=300, check=False
    )

    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "# fail 0" in result.stdout
